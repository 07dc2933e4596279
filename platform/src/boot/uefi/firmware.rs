//! The UEFI firmware while boot services run: the few tables and calls the boot uses.
//!
//! Offsets and GUIDs are the UEFI 2.10 specification's (§4.3 EFI_SYSTEM_TABLE, §4.4
//! EFI_BOOT_SERVICES, §9.1 EFI_LOADED_IMAGE_PROTOCOL, §4.6 configuration table GUIDs). They are
//! written out here rather than taken from the `uefi-raw` crate: the boot needs three boot
//! services, the loaded-image protocol's two load-option fields and ConOut's OutputString, and a
//! crate of every table in the specification (and a Cargo.lock change shared with everyone) buys
//! little over twenty named constants checked against the spec.
//!
//! The one unsafe door is [`Firmware::claim`]: the system table pointer the firmware passed in
//! x1. It checks the system table's and boot services' signatures before anything is called.
//!
//! Weak spot: a firmware that lies about its tables' layouts (wrong revision) is not caught
//! beyond the signatures and non-null function pointers.

use super::error::BootError;

/// An EFI_STATUS: 0 is success, the top bit marks an error.
pub type Status = u64;
/// EFI_SUCCESS.
pub const SUCCESS: Status = 0;
/// EFI_LOAD_ERROR: what the entry returns to the firmware when the boot cannot go on.
pub const LOAD_ERROR: Status = (1 << 63) | 1;
/// EFI_INVALID_PARAMETER: ExitBootServices's answer to a stale map key.
pub const INVALID_PARAMETER: Status = (1 << 63) | 2;
/// EFI_BUFFER_TOO_SMALL: GetMemoryMap's answer when the map does not fit.
const BUFFER_TOO_SMALL: Status = (1 << 63) | 5;

/// An EFI_GUID in its in-memory byte order (the first three fields little-endian).
pub type Guid = [u8; 16];

/// Builds a GUID from its textual groups.
const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> Guid {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]
}

/// EFI_ACPI_20_TABLE_GUID: the ACPI 2.0+ RSDP.
pub const ACPI_20_TABLE: Guid =
    guid(0x8868_e871, 0xe4f1, 0x11d3, [0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81]);
/// EFI_DTB_TABLE_GUID: a flattened device tree, if the firmware passes one.
pub const DTB_TABLE: Guid =
    guid(0xb1b6_21d5, 0xf19c, 0x41a5, [0x83, 0x0b, 0xd9, 0x15, 0x2c, 0x69, 0xaa, 0xe0]);
/// EFI_LOADED_IMAGE_PROTOCOL_GUID.
const LOADED_IMAGE_PROTOCOL: Guid =
    guid(0x5b1b_31a1, 0x9562, 0x11d2, [0x8e, 0x3f, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b]);

/// "IBI SYST", the system table's header signature.
const SYSTEM_TABLE_SIGNATURE: u64 = 0x5453_5953_2049_4249;
/// "BOOTSERV", the boot services table's header signature.
const BOOT_SERVICES_SIGNATURE: u64 = 0x5652_4553_544f_4f42;

/// "RUNTSERV", the runtime services table's header signature.
const RUNTIME_SERVICES_SIGNATURE: u64 = 0x5652_4553_544e_5552;

/// EFI_SYSTEM_TABLE field offsets (after the 24-byte EFI_TABLE_HEADER).
mod system {
    pub const CON_OUT: u64 = 64;
    pub const RUNTIME_SERVICES: u64 = 88;
    pub const BOOT_SERVICES: u64 = 96;
    pub const NUMBER_OF_TABLE_ENTRIES: u64 = 104;
    pub const CONFIGURATION_TABLE: u64 = 112;
}

/// EFI_BOOT_SERVICES function pointer offsets.
mod boot {
    pub const GET_MEMORY_MAP: u64 = 56;
    pub const HANDLE_PROTOCOL: u64 = 152;
    pub const EXIT_BOOT_SERVICES: u64 = 232;
}

/// EFI_RUNTIME_SERVICES function pointer offsets.
mod runtime {
    pub const GET_TIME: u64 = 24;
    pub const RESET_SYSTEM: u64 = 104;
    /// EFI_RESET_TYPE EfiResetShutdown.
    pub const SHUTDOWN: u32 = 2;
}

/// EFI_LOADED_IMAGE_PROTOCOL field offsets.
mod loaded_image {
    pub const LOAD_OPTIONS_SIZE: u64 = 48;
    pub const LOAD_OPTIONS: u64 = 56;
}

/// Most configuration table entries looked at (AAVMF has about ten).
const MAX_CONFIGURATION_TABLES: u64 = 256;
/// Largest load options accepted, in bytes.
const MAX_LOAD_OPTIONS: u64 = 64 * 1024;

type GetMemoryMap =
    unsafe extern "efiapi" fn(*mut usize, *mut u8, *mut usize, *mut usize, *mut u32) -> Status;
type HandleProtocol = unsafe extern "efiapi" fn(u64, *const Guid, *mut u64) -> Status;
type ExitBootServices = unsafe extern "efiapi" fn(u64, usize) -> Status;
type OutputString = unsafe extern "efiapi" fn(u64, *const u16) -> Status;
type ResetSystem = unsafe extern "efiapi" fn(u32, Status, usize, *const u8);
type GetTime = unsafe extern "efiapi" fn(*mut EfiTime, *mut u8) -> Status;

/// EFI_TIME (UEFI 2.10 §8.3.1): the firmware's RTC reading, local time at `time_zone`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct EfiTime {
    /// 1900–9999.
    pub year: u16,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59.
    pub second: u8,
    pad1: u8,
    /// 0–999 999 999.
    pub nanosecond: u32,
    /// Minutes from UTC (-1440 to 1440), or 2047 (EFI_UNSPECIFIED_TIMEZONE): local time.
    pub time_zone: i16,
    /// Daylight-saving flags (not needed: `time_zone` already includes the shift).
    pub daylight: u8,
    pad2: u8,
}

/// The firmware's system table, checked, while boot services run.
pub struct Firmware {
    system_table: u64,
    boot_services: u64,
}

/// Reads the u64 at `address`.
///
/// # Safety
/// 1. `address` is 8-byte aligned and 8 readable bytes: a field of a firmware table reached from
///    a checked system table.
unsafe fn read(address: u64) -> u64 {
    // SAFETY: obligation 1.
    unsafe { core::ptr::read_volatile(address as *const u64) }
}

impl Firmware {
    /// Takes the system table the firmware passed to the entry point.
    ///
    /// # Safety
    /// 1. `system_table` is what the firmware passed in x1 to the image's entry point, and boot
    ///    services have not been left: the tables it leads to are valid and the boot services
    ///    callable.
    pub unsafe fn claim(system_table: u64) -> Result<Self, BootError> {
        if system_table == 0 || !system_table.is_multiple_of(8) {
            return Err(BootError::BadSystemTable("misaligned or null"));
        }
        // SAFETY: the table is valid by obligation 1; its header signature is the first field.
        if unsafe { read(system_table) } != SYSTEM_TABLE_SIGNATURE {
            return Err(BootError::BadSystemTable("bad signature"));
        }
        // SAFETY: a field of the system table, checked above.
        let boot_services = unsafe { read(system_table + system::BOOT_SERVICES) };
        if boot_services == 0 || !boot_services.is_multiple_of(8) {
            return Err(BootError::BadSystemTable("no boot services"));
        }
        // SAFETY: the boot services table the (checked) system table names, by obligation 1.
        if unsafe { read(boot_services) } != BOOT_SERVICES_SIGNATURE {
            return Err(BootError::BadSystemTable("bad boot services signature"));
        }
        Ok(Self { system_table, boot_services })
    }

    /// The boot service at `offset`, if its pointer is not null.
    fn service(&self, offset: u64) -> Option<u64> {
        // SAFETY: `offset` is one of the `boot` constants, inside the checked boot services
        // table (whose header has at least that many fields since UEFI 1.0).
        let pointer = unsafe { read(self.boot_services + offset) };
        (pointer != 0).then_some(pointer)
    }

    /// Writes `text` to the firmware's console (ConOut), `\n` as CR LF. Best effort.
    pub fn print(&self, text: &str) {
        // SAFETY: a field of the checked system table.
        let con_out = unsafe { read(self.system_table + system::CON_OUT) };
        if con_out == 0 {
            return;
        }
        // SAFETY: OutputString is the second field of the ConOut protocol the firmware set up.
        let output = unsafe { read(con_out + 8) };
        if output == 0 {
            return;
        }
        // SAFETY: a non-null function pointer the firmware put in its protocol; its type is the
        // specification's EFI_TEXT_STRING.
        let output: OutputString = unsafe { core::mem::transmute(output as usize) };
        let mut buffer = [0u16; 128];
        let mut len = 0;
        for c in text.chars().flat_map(|c| (c == '\n').then_some('\r').into_iter().chain([c])) {
            let mut units = [0; 2];
            for &unit in c.encode_utf16(&mut units).iter() {
                buffer[len] = unit;
                len += 1;
            }
            if len >= buffer.len() - 3 {
                buffer[len] = 0;
                // SAFETY: `buffer` is NUL-terminated and outlives the call.
                unsafe { output(con_out, buffer.as_ptr()) };
                len = 0;
            }
        }
        buffer[len] = 0;
        // SAFETY: `buffer` is NUL-terminated and outlives the call.
        unsafe { output(con_out, buffer.as_ptr()) };
    }

    /// The configuration table entry with `guid`, if any: its pointer.
    pub fn configuration_table(&self, guid: &Guid) -> Option<u64> {
        // SAFETY: fields of the checked system table.
        let (count, table) = unsafe {
            (
                read(self.system_table + system::NUMBER_OF_TABLE_ENTRIES),
                read(self.system_table + system::CONFIGURATION_TABLE),
            )
        };
        if table == 0 || !table.is_multiple_of(8) {
            return None;
        }
        (0..count.min(MAX_CONFIGURATION_TABLES)).find_map(|i| {
            let entry = table + i * 24;
            // SAFETY: entry i of the `count` 24-byte EFI_CONFIGURATION_TABLE entries the system
            // table names: a GUID then a pointer.
            let (low, high, pointer) = unsafe { (read(entry), read(entry + 8), read(entry + 16)) };
            let mut entry_guid = [0; 16];
            entry_guid[..8].copy_from_slice(&low.to_le_bytes());
            entry_guid[8..].copy_from_slice(&high.to_le_bytes());
            (entry_guid == *guid).then_some(pointer)
        })
    }

    /// The image's load options (the command line, UCS-2), as raw bytes.
    pub fn load_options(&self, image: u64) -> Result<&'static [u8], BootError> {
        let handle_protocol = self
            .service(boot::HANDLE_PROTOCOL)
            .ok_or(BootError::Firmware { call: "HandleProtocol", status: 0 })?;
        // SAFETY: a non-null boot service pointer of the checked table, of the specification's
        // EFI_HANDLE_PROTOCOL type.
        let handle_protocol: HandleProtocol =
            unsafe { core::mem::transmute(handle_protocol as usize) };
        let mut interface = 0u64;
        // SAFETY: the GUID and the out-pointer are valid for the call; `image` is the handle the
        // firmware passed to the entry point.
        let status = unsafe { handle_protocol(image, &LOADED_IMAGE_PROTOCOL, &mut interface) };
        if status != SUCCESS || interface == 0 || !interface.is_multiple_of(8) {
            return Err(BootError::Firmware { call: "HandleProtocol(LoadedImage)", status });
        }
        // SAFETY: the loaded-image protocol the firmware just returned: LoadOptionsSize is a
        // u32 at 48 (read as the low half of the aligned u64 there), LoadOptions a pointer at 56.
        let (size, options) = unsafe {
            (
                read(interface + loaded_image::LOAD_OPTIONS_SIZE) & 0xffff_ffff,
                read(interface + loaded_image::LOAD_OPTIONS),
            )
        };
        if size == 0 || options == 0 {
            return Ok(&[]);
        }
        if size > MAX_LOAD_OPTIONS {
            return Err(BootError::LoadOptionsTooLarge(size));
        }
        // SAFETY: the firmware's LoadOptions buffer of LoadOptionsSize bytes (bounded above),
        // which stays valid while boot services run; it is only read, and only before
        // ExitBootServices (the boot copies it out).
        Ok(unsafe { core::slice::from_raw_parts(options as *const u8, size as usize) })
    }

    /// Fills `buffer` with the current memory map; returns the map's length in bytes, the map
    /// key and the descriptor size.
    pub fn memory_map(&self, buffer: &mut [u8]) -> Result<(usize, usize, usize), BootError> {
        let call = "GetMemoryMap";
        let get =
            self.service(boot::GET_MEMORY_MAP).ok_or(BootError::Firmware { call, status: 0 })?;
        // SAFETY: a non-null boot service pointer, of the specification's EFI_GET_MEMORY_MAP type.
        let get: GetMemoryMap = unsafe { core::mem::transmute(get as usize) };
        let mut size = buffer.len();
        let (mut key, mut descriptor_size, mut version) = (0usize, 0usize, 0u32);
        // SAFETY: `buffer` is `size` writable bytes; the out-pointers are valid for the call.
        let status = unsafe {
            get(&mut size, buffer.as_mut_ptr(), &mut key, &mut descriptor_size, &mut version)
        };
        if status == BUFFER_TOO_SMALL {
            return Err(BootError::MemoryMapTooLarge(buffer.len()));
        }
        if status != SUCCESS {
            return Err(BootError::Firmware { call, status });
        }
        if size > buffer.len() {
            return Err(BootError::Firmware { call, status });
        }
        Ok((size, key, descriptor_size))
    }

    /// Leaves boot services with `key` from the latest memory map. On a stale key the firmware
    /// answers INVALID_PARAMETER and the caller fetches the map again.
    pub fn exit_boot_services(&self, image: u64, key: usize) -> Result<(), Status> {
        let exit = self.service(boot::EXIT_BOOT_SERVICES).ok_or(0u64)?;
        // SAFETY: a non-null boot service pointer, of the EFI_EXIT_BOOT_SERVICES type.
        let exit: ExitBootServices = unsafe { core::mem::transmute(exit as usize) };
        // SAFETY: `image` is the handle the firmware passed to the entry point; the caller uses
        // no boot service after a success.
        match unsafe { exit(image, key) } {
            SUCCESS => Ok(()),
            status => Err(status),
        }
    }

    /// The time from the runtime services' GetTime (the firmware's RTC driver), or the status
    /// it failed with (`LOAD_ERROR` if there is no usable GetTime). Called while boot services
    /// run, before anything else uses the runtime services.
    pub fn time(&self) -> Result<EfiTime, Status> {
        // SAFETY: a field of the checked system table.
        let runtime = unsafe { read(self.system_table + system::RUNTIME_SERVICES) };
        if runtime == 0 || !runtime.is_multiple_of(8) {
            return Err(LOAD_ERROR);
        }
        // SAFETY: the runtime services table the checked system table names (obligation 1 of
        // `claim`); its header signature is the first field.
        if unsafe { read(runtime) } != RUNTIME_SERVICES_SIGNATURE {
            return Err(LOAD_ERROR);
        }
        // SAFETY: a field of the checked runtime services table (present since UEFI 1.0).
        let get_time = unsafe { read(runtime + runtime::GET_TIME) };
        if get_time == 0 {
            return Err(LOAD_ERROR);
        }
        // SAFETY: a non-null runtime service pointer, of the EFI_GET_TIME type.
        let get_time: GetTime = unsafe { core::mem::transmute(get_time as usize) };
        let mut time = EfiTime::default();
        // SAFETY: `time` is a writable EFI_TIME; the capabilities are optional (null); called
        // while boot services run, from the one core, as the firmware expects.
        match unsafe { get_time(&mut time, core::ptr::null_mut()) } {
            SUCCESS => Ok(time),
            status => Err(status),
        }
    }

    /// Powers the machine off through the runtime services' ResetSystem, reporting `status`:
    /// how a boot that cannot go on ends the run instead of returning to a boot manager that
    /// would wait for a human. Returns only if the firmware has no usable ResetSystem.
    pub fn shut_down(&self, status: Status) {
        // SAFETY: a field of the checked system table.
        let runtime = unsafe { read(self.system_table + system::RUNTIME_SERVICES) };
        if runtime == 0 || !runtime.is_multiple_of(8) {
            return;
        }
        // SAFETY: the runtime services table the checked system table names (obligation 1 of
        // `claim`); its header signature is the first field.
        if unsafe { read(runtime) } != RUNTIME_SERVICES_SIGNATURE {
            return;
        }
        // SAFETY: a field of the checked runtime services table (present since UEFI 1.0).
        let reset = unsafe { read(runtime + runtime::RESET_SYSTEM) };
        if reset == 0 {
            return;
        }
        // SAFETY: a non-null runtime service pointer, of the EFI_RESET_SYSTEM type.
        let reset: ResetSystem = unsafe { core::mem::transmute(reset as usize) };
        // SAFETY: EfiResetShutdown with no reset data, called while boot services run.
        unsafe { reset(runtime::SHUTDOWN, status, 0, core::ptr::null()) };
    }
}
