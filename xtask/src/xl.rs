//! `cargo xtask xl-config`: an `xl` domain configuration for a built image, so a user with a real
//! Xen host can `xl create` it.
//!
//! x86_64 images boot as classic PV guests (`type = "pv"`, the stripped ELF as `kernel`); arm64
//! guests have no `type` (all are PVH-like) and take the flat `Image`. The kernel command line goes
//! in `cmdline`. Weak spot: the kernel path is written as it is on this machine; copy the image
//! and edit `kernel` when the Xen host is another machine.

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
}

/// An `xl` string literal: double quotes, with `\` and `"` escaped.
pub fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

impl XlConfig {
    /// The configuration file's text.
    pub fn render(&self) -> String {
        let mut text = format!(
            "# xl domain configuration for a Rivet image (written by `cargo xtask xl-config`).\n\
             # Start it with `xl create -c THIS_FILE`; the console is the PV console (hvc0).\n\
             name = {}\n",
            quote(&self.name)
        );
        if self.triple.starts_with("x86_64") {
            text.push_str("type = \"pv\"\n");
        }
        text.push_str(&format!(
            "kernel = {}\ncmdline = {}\nmemory = {}\nvcpus = {}\n\
             on_poweroff = \"destroy\"\non_reboot = \"destroy\"\non_crash = \"destroy\"\n",
            quote(&self.kernel),
            quote(&self.cmdline),
            self.memory_mib,
            self.vcpus
        ));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(triple: &str) -> XlConfig {
        XlConfig {
            name: "rivet-hello".into(),
            triple: triple.into(),
            kernel: "/t/hello.elf".into(),
            cmdline: "rivet.log=info -- a 'b \"c\"' d\\e".into(),
            memory_mib: 32,
            vcpus: 1,
        }
    }

    #[test]
    fn pv_on_x86_64_no_type_on_arm64() {
        let x86 = config("x86_64-unknown-none").render();
        assert!(x86.contains("\ntype = \"pv\"\n"));
        assert!(x86.contains("\nkernel = \"/t/hello.elf\"\n"));
        assert!(x86.contains("\nmemory = 32\n"));
        let arm = config("aarch64-unknown-none").render();
        assert!(!arm.contains("type ="));
    }

    #[test]
    fn strings_are_escaped() {
        let text = config("x86_64-unknown-none").render();
        assert!(text.contains(r#"cmdline = "rivet.log=info -- a 'b \"c\"' d\\e""#), "{text}");
        assert_eq!(quote(""), "\"\"");
    }
}
