//! `cargo xtask xl-config`: an `xl` domain configuration for a built image, so a user with a real
//! Xen host can `xl create` it.
//!
//! x86_64 images boot as classic PV guests (`type = "pv"`, the stripped ELF as `kernel`) or, the
//! same ELF, as PVH guests (`type = "pvh"`, through its PVH note); arm64 guests have no `type`
//! (all are PVH-like) and take the flat `Image`. The kernel command line goes
//! in `cmdline`. The same renderer writes the domU configuration of the `xen-domu` machine
//! (`dom0.rs`), which preserves the stopped domain instead of destroying it. Weak spot: the kernel
//! path is written as it is on this machine; copy the image and edit `kernel` when the Xen host
//! is another machine.

/// What the configuration describes.
#[derive(Debug, Clone)]
pub struct XlConfig {
    /// The domain's name.
    pub name: String,
    /// The Rust target triple the image was built for.
    pub triple: String,
    /// Path of the image (`kernel =`).
    pub kernel: String,
    /// The kernel command line.
    pub cmdline: String,
    /// Memory in MiB.
    pub memory_mib: u32,
    /// Number of virtual CPUs.
    pub vcpus: u32,
    /// What Xen does when the guest powers off, reboots and crashes (`on_poweroff`, `on_reboot`,
    /// `on_crash`): `destroy`, `preserve`, `restart` …
    pub on_poweroff: String,
    /// See [`XlConfig::on_poweroff`].
    pub on_reboot: String,
    /// See [`XlConfig::on_poweroff`].
    pub on_crash: String,
    /// Network interfaces (`vif = [...]`), each an `xl` vif specification such as
    /// `mac=00:16:3e:00:00:02,script=/etc/xen/scripts/vif-rivet`; none when empty.
    pub vif: Vec<String>,
    /// An x86_64 guest's `type`: `pv` (the default) or `pvh`; arm64 guests have none.
    pub guest_type: GuestType,
}

/// How Xen runs an x86_64 image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuestType {
    /// Classic paravirtualised (ring 3, the Xen ELF notes' entry).
    #[default]
    Pv,
    /// PVH (hardware virtualisation without a device model, the PVH note's entry).
    Pvh,
}

/// An `xl` string literal: double quotes, with `\` and `"` escaped.
pub fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// An `xl` single-quoted string (vif specifications are written that way); `\\` and `'` escaped.
fn quote_single(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

impl XlConfig {
    /// A configuration whose domain is destroyed when it stops (what a user on a real Xen host
    /// wants); callers adjust the public fields.
    pub fn new(name: &str, triple: &str, kernel: &str, cmdline: &str) -> XlConfig {
        XlConfig {
            name: name.to_owned(),
            triple: triple.to_owned(),
            kernel: kernel.to_owned(),
            cmdline: cmdline.to_owned(),
            memory_mib: 32,
            vcpus: 1,
            on_poweroff: "destroy".into(),
            on_reboot: "destroy".into(),
            on_crash: "destroy".into(),
            vif: Vec::new(),
            guest_type: GuestType::Pv,
        }
    }

    /// The configuration file's text.
    pub fn render(&self) -> String {
        let mut text = format!(
            "# xl domain configuration for a Rivet image (written by `cargo xtask xl-config`).\n\
             # Start it with `xl create -c THIS_FILE`; the console is the PV console (hvc0).\n\
             name = {}\n",
            quote(&self.name)
        );
        if self.triple.starts_with("x86_64") {
            text.push_str(match self.guest_type {
                GuestType::Pv => "type = \"pv\"\n",
                GuestType::Pvh => "type = \"pvh\"\n",
            });
        }
        text.push_str(&format!(
            "kernel = {}\ncmdline = {}\nmemory = {}\nvcpus = {}\n\
             on_poweroff = {}\non_reboot = {}\non_crash = {}\n",
            quote(&self.kernel),
            quote(&self.cmdline),
            self.memory_mib,
            self.vcpus,
            quote(&self.on_poweroff),
            quote(&self.on_reboot),
            quote(&self.on_crash),
        ));
        if !self.vif.is_empty() {
            let vifs: Vec<String> = self.vif.iter().map(|v| quote_single(v)).collect();
            text.push_str(&format!("vif = [{}]\n", vifs.join(", ")));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(triple: &str) -> XlConfig {
        XlConfig::new("rivet-hello", triple, "/t/hello.elf", "rivet.log=info -- a 'b \"c\"' d\\e")
    }

    #[test]
    fn pv_on_x86_64_no_type_on_arm64() {
        let x86 = config("x86_64-unknown-none").render();
        assert!(x86.contains("\ntype = \"pv\"\n"));
        assert!(x86.contains("\nkernel = \"/t/hello.elf\"\n"));
        assert!(x86.contains("\nmemory = 32\n"));
        assert!(x86.contains(
            "\non_poweroff = \"destroy\"\non_reboot = \"destroy\"\non_crash = \"destroy\"\n"
        ));
        assert!(!x86.contains("vif"));
        let arm = config("aarch64-unknown-none").render();
        assert!(!arm.contains("type ="));
        let mut pvh = config("x86_64-unknown-none");
        pvh.guest_type = GuestType::Pvh;
        assert!(pvh.render().contains("\ntype = \"pvh\"\n"));
    }

    #[test]
    fn preserved_domains_and_vifs() {
        let mut domu = config("x86_64-unknown-none");
        domu.on_poweroff = "preserve".into();
        domu.on_crash = "preserve".into();
        domu.vif = vec!["mac=00:16:3e:00:00:02,script=/etc/xen/scripts/vif-rivet".into()];
        let text = domu.render();
        assert!(
            text.contains(
                "\non_poweroff = \"preserve\"\non_reboot = \"destroy\"\non_crash = \"preserve\"\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("\nvif = ['mac=00:16:3e:00:00:02,script=/etc/xen/scripts/vif-rivet']\n"),
            "{text}"
        );
    }

    #[test]
    fn strings_are_escaped() {
        let text = config("x86_64-unknown-none").render();
        assert!(text.contains(r#"cmdline = "rivet.log=info -- a 'b \"c\"' d\\e""#), "{text}");
        assert_eq!(quote(""), "\"\"");
    }
}
