//! Xen's public guest ABI as plain Rust: the structures, numbers and pure logic a guest needs.
//!
//! Purpose: one checked definition of the Xen 4.17 public interface (`xen/include/public`,
//! shipped by Debian's `libxen-dev` as `/usr/include/xen/*.h`) for every Rivet port that runs on
//! Xen (x86_64 classic PV now, arm64 next). The definitions are written by hand from those headers
//! — not generated, and not taken from the `xen-sys` crate, whose 5-argument hypercall wrapper
//! passes arguments in the wrong registers (it must be r10 and r8 on x86_64) and which lacks
//! grant-table, xenstore and ring definitions. Every `#[repr(C)]` struct carries compile-time
//! size and offset assertions whose numbers were printed by a C program (`offsetof`/`sizeof`,
//! gcc, x86_64) against the 4.17 headers.
//!
//! What lives here: the constants ([`hypercall`] numbers and sub-operations, [`elfnote`] types),
//! the structures ([`StartInfo`], [`SharedInfo`], [`VcpuInfo`], [`VcpuTimeInfo`], [`TrapInfo`],
//! [`MmuUpdate`], [`SchedShutdown`], [`PhysdevSetIopl`], the event-channel and vCPU-timer
//! arguments [`EvtchnBindVirq`], [`EvtchnBindIpi`], [`EvtchnSend`], [`EvtchnUnmask`],
//! [`VcpuSetSingleshotTimer`], [`IretContext`] (the frame `HYPERVISOR_iret` pops) and
//! [`VcpuGuestContext`] (a new vCPU's first state, for `VCPUOP_initialise`)), the validation of a
//! start info as untrusted input ([`start_info`]), the pvclock arithmetic ([`pvclock`]) and the
//! two-level event-channel scan ([`evtchn`]), grant tables v1 ([`grant_table`]), the shared
//! request/response rings of split drivers ([`ring`]) and the network ones' entries ([`netif`]),
//! the byte rings of the PV console and xenstore
//! ([`ConsoleInterface`], [`XenstoreInterface`], [`byte_ring`]) and the xenstore wire protocol
//! ([`xenstore`]). What does not: the hypercall instructions
//! themselves and every pointer dereference, which stay in `rivet-arch` and the platform. Nothing
//! here is `unsafe`; everything runs on the host under `cargo test`.
//!
//! Weak spots: only the x86_64 layouts of the arch-dependent structures are defined and asserted
//! (arm64's `vcpu_info`/`shared_info` arch parts differ and come with that port); the `console`
//! union of `start_info` is kept as raw words with accessors.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod byte_ring;
pub mod elf_notes;
pub mod evtchn;
pub mod grant_table;
pub mod netif;
pub mod pvclock;
pub mod ring;
pub mod start_info;
pub mod xenstore;

pub use start_info::{Bootstrap, StartInfoError};

/// Hypercall numbers (`xen.h`, `__HYPERVISOR_*`) and the sub-operations Rivet uses.
pub mod hypercall {
    /// `__HYPERVISOR_set_trap_table`: register the exception handlers (x86 PV).
    pub const SET_TRAP_TABLE: u64 = 0;
    /// `__HYPERVISOR_mmu_update`: write page-table entries (x86 PV).
    pub const MMU_UPDATE: u64 = 1;
    /// `__HYPERVISOR_set_callbacks`: `set_callbacks(event, failsafe, syscall)`, the addresses Xen
    /// enters for an event upcall, a failed return to the guest and a `syscall` from guest user
    /// mode (x86_64 PV).
    pub const SET_CALLBACKS: u64 = 4;
    /// `__HYPERVISOR_update_va_mapping`: write the L1 entry of one virtual address (x86 PV).
    pub const UPDATE_VA_MAPPING: u64 = 14;
    /// `__HYPERVISOR_xen_version`.
    pub const XEN_VERSION: u64 = 17;
    /// `__HYPERVISOR_iret` (x86_64 PV): *jumped to*, not called, with an [`IretContext`] minus
    /// its first three words on the stack (the stub pushes rcx, r11 and rax; see
    /// `arch-x86/xen-x86_64.h`). Restores the frame and the event mask from its `rflags.IF`.
    ///
    /// [`IretContext`]: crate::IretContext
    pub const IRET: u64 = 23;
    /// `__HYPERVISOR_console_io`: the hypervisor console (dom0, or domUs on a debug Xen).
    pub const CONSOLE_IO: u64 = 18;
    /// `__HYPERVISOR_vcpu_op`.
    pub const VCPU_OP: u64 = 24;
    /// `__HYPERVISOR_sched_op`: yield, block, shutdown.
    pub const SCHED_OP: u64 = 29;
    /// `__HYPERVISOR_event_channel_op`.
    pub const EVENT_CHANNEL_OP: u64 = 32;
    /// `__HYPERVISOR_physdev_op`.
    pub const PHYSDEV_OP: u64 = 33;
    /// `__HYPERVISOR_memory_op`.
    pub const MEMORY_OP: u64 = 12;
    /// `__HYPERVISOR_hvm_op` (HVM and PVH guests).
    pub const HVM_OP: u64 = 34;

    /// `HVMOP_get_param`: argument an [`HvmParam`](crate::HvmParam) whose `value` Xen fills.
    pub const HVMOP_GET_PARAM: u64 = 1;
    /// `HVM_PARAM_STORE_PFN`: the guest frame of the xenstore ring.
    pub const HVM_PARAM_STORE_PFN: u32 = 1;
    /// `HVM_PARAM_STORE_EVTCHN`: its event channel.
    pub const HVM_PARAM_STORE_EVTCHN: u32 = 2;
    /// `HVM_PARAM_CONSOLE_PFN`: the guest frame of the PV console ring.
    pub const HVM_PARAM_CONSOLE_PFN: u32 = 17;
    /// `HVM_PARAM_CONSOLE_EVTCHN`: its event channel.
    pub const HVM_PARAM_CONSOLE_EVTCHN: u32 = 18;

    /// `XENMEM_add_to_physmap`: argument an [`AddToPhysmap`](crate::AddToPhysmap).
    pub const XENMEM_ADD_TO_PHYSMAP: u64 = 7;
    /// `XENMAPSPACE_shared_info`: map the shared info page.
    pub const XENMAPSPACE_SHARED_INFO: u32 = 0;

    /// Bytes per hypercall stub in the hypercall page: stub `n` is at `page + 32 * n`.
    pub const STUB_SIZE: u64 = 32;

    /// `CONSOLEIO_write`: `console_io(CONSOLEIO_write, count, buffer)`.
    pub const CONSOLEIO_WRITE: u64 = 0;

    /// `XENVER_version`: `xen_version(XENVER_version, NULL)` returns `major << 16 | minor`. The
    /// cheapest hypercall there is, made to have pending events delivered on its return.
    pub const XENVER_VERSION: u64 = 0;

    /// `SCHEDOP_yield`.
    pub const SCHEDOP_YIELD: u64 = 0;
    /// `SCHEDOP_block`: clear the vCPU's `evtchn_upcall_mask` and sleep until an event is
    /// pending, checking *after* enabling delivery (`sched.h`: no "wakeup waiting" race). Returns
    /// at once if one is pending; the upcall runs as the hypercall returns.
    pub const SCHEDOP_BLOCK: u64 = 1;
    /// `SCHEDOP_shutdown`: argument a [`SchedShutdown`](crate::SchedShutdown).
    pub const SCHEDOP_SHUTDOWN: u64 = 2;

    /// `SHUTDOWN_poweroff`: the domain is done.
    pub const SHUTDOWN_POWEROFF: u32 = 0;
    /// `SHUTDOWN_reboot`: restart it (for dom0: the whole machine).
    pub const SHUTDOWN_REBOOT: u32 = 1;
    /// `SHUTDOWN_crash`: the domain crashed.
    pub const SHUTDOWN_CRASH: u32 = 3;

    /// `PHYSDEVOP_set_iopl`: argument a [`PhysdevSetIopl`](crate::PhysdevSetIopl).
    pub const PHYSDEVOP_SET_IOPL: u64 = 6;

    /// `EVTCHNOP_bind_virq`: argument an [`EvtchnBindVirq`](crate::EvtchnBindVirq); the port is
    /// returned in it, masked until `EVTCHNOP_unmask`.
    pub const EVTCHNOP_BIND_VIRQ: u64 = 1;
    /// `EVTCHNOP_alloc_unbound`: argument an [`EvtchnAllocUnbound`](crate::EvtchnAllocUnbound);
    /// a new port another domain may bind to (a front end's channel to its back end).
    pub const EVTCHNOP_ALLOC_UNBOUND: u64 = 6;
    /// `EVTCHNOP_send`: argument an [`EvtchnSend`](crate::EvtchnSend).
    pub const EVTCHNOP_SEND: u64 = 4;
    /// `EVTCHNOP_unmask`: argument an [`EvtchnUnmask`](crate::EvtchnUnmask); clears the port's
    /// mask bit and, if the port is pending, marks it in the selector and raises the upcall.
    pub const EVTCHNOP_UNMASK: u64 = 9;

    /// `VCPUOP_stop_periodic_timer`: `vcpu_op(VCPUOP_stop_periodic_timer, vcpu, NULL)`.
    pub const VCPUOP_STOP_PERIODIC_TIMER: u64 = 7;
    /// `VCPUOP_set_singleshot_timer`: argument a
    /// [`VcpuSetSingleshotTimer`](crate::VcpuSetSingleshotTimer); `VIRQ_TIMER` fires once at the
    /// deadline (at once if it has passed and the flags do not ask for `-ETIME`).
    pub const VCPUOP_SET_SINGLESHOT_TIMER: u64 = 8;
    /// `VCPUOP_stop_singleshot_timer`: `vcpu_op(VCPUOP_stop_singleshot_timer, vcpu, NULL)`.
    pub const VCPUOP_STOP_SINGLESHOT_TIMER: u64 = 9;
    /// `VCPUOP_initialise`: give a vCPU that never ran its first register state
    /// ([`super::VcpuGuestContext`]); `-EEXIST` once it has one.
    pub const VCPUOP_INITIALISE: u64 = 0;
    /// `VCPUOP_up`: let an initialised vCPU run.
    pub const VCPUOP_UP: u64 = 1;
    /// `VCPUOP_is_up`: 1 if the vCPU runs, 0 if not, `-ENOENT` if the domain has no such vCPU.
    pub const VCPUOP_IS_UP: u64 = 3;
    /// `EVTCHNOP_bind_ipi`: a new port that notifies a vCPU of this domain
    /// ([`super::EvtchnBindIpi`]).
    pub const EVTCHNOP_BIND_IPI: u64 = 7;
    /// `ENOENT` (`errno.h`): `VCPUOP_is_up`'s answer for a vCPU the domain does not have.
    pub const ENOENT: i64 = 2;

    /// `MMU_NORMAL_PT_UPDATE`: `mmu_update` command in `ptr` bits 0–1: write one entry.
    pub const MMU_NORMAL_PT_UPDATE: u64 = 0;
    /// `DOMID_SELF`: the calling domain, for `mmu_update`'s `foreigndom`.
    pub const DOMID_SELF: u64 = 0x7ff0;

    /// `UVMF_TLB_FLUSH` (with `UVMF_LOCAL` = 0): flush the whole local TLB after the update.
    pub const UVMF_TLB_FLUSH: u64 = 1;
    /// `UVMF_INVLPG`: `update_va_mapping` flushes this one address from the local TLB.
    pub const UVMF_INVLPG: u64 = 2;
}

/// ELF note types (`elfnote.h`, `XEN_ELFNOTE_*`), all in notes named `"Xen"`.
pub mod elfnote {
    /// Virtual entry point of a PV kernel (8-byte value on 64-bit).
    pub const ENTRY: u32 = 1;
    /// Virtual address of the page Xen fills with hypercall stubs.
    pub const HYPERCALL_PAGE: u32 = 2;
    /// Virtual address pseudo-physical 0 is mapped at.
    pub const VIRT_BASE: u32 = 3;
    /// `VIRT_BASE` minus the offset `p_paddr` is relative to (0: `p_paddr` is pseudo-physical).
    pub const PADDR_OFFSET: u32 = 4;
    /// The ABI version, `"xen-3.0"`: Xen's loader insists.
    pub const XEN_VERSION: u32 = 5;
    /// The guest OS name (free text unless the loader is not `"generic"`).
    pub const GUEST_OS: u32 = 6;
    /// `"generic"`: no Linux-specific loading.
    pub const LOADER: u32 = 8;
    /// The PVH 32-bit physical entry point.
    pub const PHYS32_ENTRY: u32 = 18;
}

/// x86_64 PV segment selectors (`arch-x86/xen-x86_64.h`).
pub mod selector {
    /// `FLAT_KERNEL_CS` (= `FLAT_RING3_CS64`): the guest kernel's code segment.
    pub const FLAT_KERNEL_CS: u16 = 0xe033;
    /// `FLAT_KERNEL_SS` (= `FLAT_RING3_SS64`).
    pub const FLAT_KERNEL_SS: u16 = 0xe02b;
}

/// `struct start_info` (`xen.h`): what Xen hands a PV guest in `rsi` at its entry.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct StartInfo {
    /// `"xen-<version>-<platform>"`, e.g. `"xen-3.0-x86_64"`, NUL-padded.
    pub magic: [u8; 32],
    /// Pages allocated to the domain: pseudo-physical frames `0..nr_pages`.
    pub nr_pages: u64,
    /// Machine address of the shared info page (not mapped: the guest maps it).
    pub shared_info: u64,
    /// `SIF_*` flags.
    pub flags: u32,
    /// Machine frame of the xenstore ring (domU).
    pub store_mfn: u64,
    /// Event channel of the xenstore ring (domU).
    pub store_evtchn: u32,
    /// The `console` union: domU `{ mfn: u64, evtchn: u32 }`, dom0 `{ info_off, info_size: u32 }`.
    pub console: [u64; 2],
    /// Virtual address of the top-level bootstrap page table.
    pub pt_base: u64,
    /// Number of bootstrap page-table frames, from `pt_base` on.
    pub nr_pt_frames: u64,
    /// Virtual address of the pseudo-physical-to-machine frame list (`nr_pages` 8-byte entries).
    pub mfn_list: u64,
    /// Virtual address of the pre-loaded module (a pfn if `SIF_MOD_START_PFN`).
    pub mod_start: u64,
    /// Size of the module in bytes.
    pub mod_len: u64,
    /// The command line, NUL-terminated.
    pub cmd_line: [u8; MAX_GUEST_CMDLINE],
    /// First pfn of the initial p2m table (only with `XEN_ELFNOTE_INIT_P2M`).
    pub first_p2m_pfn: u64,
    /// Number of pfns of the initial p2m table.
    pub nr_p2m_frames: u64,
}

/// `MAX_GUEST_CMDLINE`: bytes of `start_info.cmd_line`.
pub const MAX_GUEST_CMDLINE: usize = 1024;
/// `SIF_PRIVILEGED`: the domain may use privileged operations.
pub const SIF_PRIVILEGED: u32 = 1;
/// `SIF_INITDOMAIN`: this is dom0.
pub const SIF_INITDOMAIN: u32 = 2;
/// `SIF_MOD_START_PFN`: `mod_start` is a pfn, not a virtual address.
pub const SIF_MOD_START_PFN: u32 = 8;

impl StartInfo {
    /// The domU console's machine frame (`console.domU.mfn`).
    pub fn console_mfn(&self) -> u64 {
        self.console[0]
    }

    /// The domU console's event channel (`console.domU.evtchn`).
    pub fn console_evtchn(&self) -> u32 {
        self.console[1] as u32
    }

    /// A start info of zeros, as a base for tests and for the platform's copy.
    pub const fn zeroed() -> Self {
        Self {
            magic: [0; 32],
            nr_pages: 0,
            shared_info: 0,
            flags: 0,
            store_mfn: 0,
            store_evtchn: 0,
            console: [0; 2],
            pt_base: 0,
            nr_pt_frames: 0,
            mfn_list: 0,
            mod_start: 0,
            mod_len: 0,
            cmd_line: [0; MAX_GUEST_CMDLINE],
            first_p2m_pfn: 0,
            nr_p2m_frames: 0,
        }
    }
}

/// `struct vcpu_time_info` (`xen.h`): the pvclock parameters of one vCPU.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VcpuTimeInfo {
    /// Odd while Xen updates the record: read, copy, re-read until even and unchanged.
    pub version: u32,
    /// Padding.
    pub pad0: u32,
    /// TSC at the last update.
    pub tsc_timestamp: u64,
    /// Nanoseconds since boot at the last update.
    pub system_time: u64,
    /// TSC-to-nanosecond multiplier, a 32.32 fixed-point fraction (after the shift).
    pub tsc_to_system_mul: u32,
    /// Shift applied to a TSC difference before the multiplication.
    pub tsc_shift: i8,
    /// `XEN_PVCLOCK_*` flags.
    pub flags: u8,
    /// Padding.
    pub pad1: [u8; 2],
}

/// `struct arch_vcpu_info` for x86: holds the faulting address of the last page fault (PV).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ArchVcpuInfo {
    /// The page-fault address (the PV guest's virtual CR2).
    pub cr2: u64,
    /// Padding.
    pub pad: u64,
}

/// `struct vcpu_info` (`xen.h`, x86_64 layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VcpuInfo {
    /// An event is pending for this vCPU.
    pub evtchn_upcall_pending: u8,
    /// Event upcalls are masked (the PV "interrupt flag", inverted).
    pub evtchn_upcall_mask: u8,
    /// Padding to the next field.
    pub pad: [u8; 6],
    /// Which words of `evtchn_pending` have bits set.
    pub evtchn_pending_sel: u64,
    /// Arch-specific: CR2 on x86.
    pub arch: ArchVcpuInfo,
    /// pvclock parameters.
    pub time: VcpuTimeInfo,
}

/// `XEN_LEGACY_MAX_VCPUS` on x86: `vcpu_info` slots in the shared info page.
pub const LEGACY_MAX_VCPUS: usize = 32;

/// `struct shared_info` (`xen.h`, x86_64 layout), the page Xen and the guest share.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SharedInfo {
    /// Per-vCPU state of the first 32 vCPUs.
    pub vcpu_info: [VcpuInfo; LEGACY_MAX_VCPUS],
    /// Pending event-channel bits.
    pub evtchn_pending: [u64; 64],
    /// Masked event-channel bits.
    pub evtchn_mask: [u64; 64],
    /// Odd while Xen updates the wall clock.
    pub wc_version: u32,
    /// Wall-clock seconds (UTC) at system time 0, low 32 bits.
    pub wc_sec: u32,
    /// Wall-clock nanoseconds at system time 0.
    pub wc_nsec: u32,
    /// Wall-clock seconds, high 32 bits.
    pub wc_sec_hi: u32,
    /// `struct arch_shared_info` (x86_64): p2m bookkeeping, 6 words.
    pub arch: [u64; 6],
}

/// `struct trap_info` (`arch-x86/xen.h`): one entry of `set_trap_table`'s list (ends with a zero
/// `address`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapInfo {
    /// The exception vector.
    pub vector: u8,
    /// Bits 0–1: the privilege level allowed to raise it with `int`; bit 2
    /// ([`TI_MASK_EVENTS`]): mask event upcalls on entry, as an interrupt gate clears IF.
    pub flags: u8,
    /// Code selector of the handler ([`selector::FLAT_KERNEL_CS`]).
    pub cs: u16,
    /// Virtual address of the handler.
    pub address: u64,
}

/// `trap_info.flags` bit 2: mask events on entry (Linux's "interrupt gate").
pub const TI_MASK_EVENTS: u8 = 4;

/// `VIRQ_TIMER` (`xen.h`): the per-vCPU timer's virtual interrupt (singleshot and periodic).
pub const VIRQ_TIMER: u32 = 0;
/// `EVTCHN_2L_NR_CHANNELS` on 64-bit guests: ports of the two-level ABI (64 words of 64 bits).
pub const EVTCHN_2L_NR_CHANNELS: u32 = 64 * 64;
/// `VCPU_SSHOTTMR_future`: have `VCPUOP_set_singleshot_timer` fail with `-ETIME` for a deadline
/// in the past instead of firing at once (Xen may ignore it).
pub const VCPU_SSHOTTMR_FUTURE: u32 = 1;
/// `VGCF_in_syscall`: [`IretContext::flags`] bit saying the frame came from `syscall` (return
/// with `sysret`, discarding rcx and r11).
pub const VGCF_IN_SYSCALL: u64 = 1 << 8;

/// `struct evtchn_bind_virq` (`event_channel.h`): bind a virtual IRQ of `vcpu` to a new port.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EvtchnBindVirq {
    /// IN: the `VIRQ_*` number.
    pub virq: u32,
    /// IN: the vCPU whose VIRQ it is (and that the port notifies).
    pub vcpu: u32,
    /// OUT: the port.
    pub port: u32,
}

/// `struct evtchn_bind_ipi` (`event_channel.h`): a port whose `EVTCHNOP_send` notifies `vcpu`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EvtchnBindIpi {
    /// IN: the vCPU the port notifies.
    pub vcpu: u32,
    /// OUT: the port.
    pub port: u32,
}

/// `VGCF_in_kernel` (`arch-x86/xen.h`): [`VcpuGuestContext::flags`] bit: the vCPU starts in
/// guest kernel mode (on the kernel page tables, ring 3 with the kernel's selectors).
pub const VGCF_IN_KERNEL: u64 = 1 << 2;

/// `struct cpu_user_regs` (`arch-x86/xen-x86_64.h`): a PV vCPU's general registers. Only the
/// fields a new vCPU needs have meaning to Rivet; the others stay 0.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuUserRegs {
    /// r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, in this order.
    pub r15_to_rdx: [u64; 13],
    /// rsi.
    pub rsi: u64,
    /// rdi.
    pub rdi: u64,
    /// Xen-private.
    pub error_code: u32,
    /// Xen-private.
    pub entry_vector: u32,
    /// rip.
    pub rip: u64,
    /// cs (with padding to 4 bytes).
    pub cs: u16,
    /// Padding.
    pub pad0: u16,
    /// Xen-private: the event mask saved with a frame.
    pub saved_upcall_mask: u8,
    /// Padding.
    pub pad1: [u8; 3],
    /// rflags (`IF` is `!saved_upcall_mask`; IOPL becomes the vCPU's virtual IOPL).
    pub rflags: u64,
    /// rsp.
    pub rsp: u64,
    /// ss, es, ds, fs, gs, each in 8 bytes.
    pub ss: u64,
    /// es.
    pub es: u64,
    /// ds.
    pub ds: u64,
    /// fs.
    pub fs: u64,
    /// gs.
    pub gs: u64,
}

/// `struct vcpu_guest_context` (`arch-x86/xen.h`, x86_64): the state `VCPUOP_initialise` gives a
/// PV vCPU before its first run: registers, virtual IDT, GDT frames, the kernel stack of the
/// virtual TSS, the page-table root and the callbacks. 5168 bytes: build it in memory that is
/// not a small stack's.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VcpuGuestContext {
    /// FXSAVE area (ignored unless `VGCF_I387_VALID`: Xen then gives default FPU state).
    pub fpu_ctxt: [u8; 512],
    /// `VGCF_*` ([`VGCF_IN_KERNEL`]).
    pub flags: u64,
    /// The registers the vCPU starts with.
    pub user_regs: CpuUserRegs,
    /// The virtual IDT, indexed by vector (an entry with address 0 is absent).
    pub trap_ctxt: [TrapInfo; 256],
    /// LDT linear address.
    pub ldt_base: u64,
    /// LDT entries (0: none).
    pub ldt_ents: u64,
    /// Machine frames of the GDT (read-only mapped descriptor pages).
    pub gdt_frames: [u64; 16],
    /// GDT entries (0: only Xen's reserved selectors, the `FLAT_*` ones).
    pub gdt_ents: u64,
    /// The virtual TSS's kernel stack selector.
    pub kernel_ss: u64,
    /// The virtual TSS's kernel stack pointer (where Xen switches on a user-to-kernel entry).
    pub kernel_sp: u64,
    /// CR0–CR7; `ctrlreg[3]` is the level-4 table's machine frame in `xen_pfn_to_cr3` encoding
    /// ([`pfn_to_cr3`]), `ctrlreg[1]` the user page tables (0: none).
    pub ctrlreg: [u64; 8],
    /// DR0–DR7.
    pub debugreg: [u64; 8],
    /// The event upcall's address (`set_callbacks`' event address).
    pub event_callback_eip: u64,
    /// The failsafe callback's address.
    pub failsafe_callback_eip: u64,
    /// The `syscall` entry (0: none).
    pub syscall_callback_eip: u64,
    /// `VMASST_TYPE_*` bitmap (only vCPU 0's is used: the assists are per domain).
    pub vm_assist: u64,
    /// FS base.
    pub fs_base: u64,
    /// GS base in kernel mode.
    pub gs_base_kernel: u64,
    /// GS base in user mode.
    pub gs_base_user: u64,
}

impl VcpuGuestContext {
    /// Every field 0.
    pub const fn zeroed() -> Self {
        Self {
            fpu_ctxt: [0; 512],
            flags: 0,
            user_regs: CpuUserRegs {
                r15_to_rdx: [0; 13],
                rsi: 0,
                rdi: 0,
                error_code: 0,
                entry_vector: 0,
                rip: 0,
                cs: 0,
                pad0: 0,
                saved_upcall_mask: 0,
                pad1: [0; 3],
                rflags: 0,
                rsp: 0,
                ss: 0,
                es: 0,
                ds: 0,
                fs: 0,
                gs: 0,
            },
            trap_ctxt: [TrapInfo { vector: 0, flags: 0, cs: 0, address: 0 }; 256],
            ldt_base: 0,
            ldt_ents: 0,
            gdt_frames: [0; 16],
            gdt_ents: 0,
            kernel_ss: 0,
            kernel_sp: 0,
            ctrlreg: [0; 8],
            debugreg: [0; 8],
            event_callback_eip: 0,
            failsafe_callback_eip: 0,
            syscall_callback_eip: 0,
            vm_assist: 0,
            fs_base: 0,
            gs_base_kernel: 0,
            gs_base_user: 0,
        }
    }
}

/// `xen_pfn_to_cr3` (`arch-x86/xen-x86_64.h`): a machine frame as a 64-bit PV guest's CR3 value.
pub const fn pfn_to_cr3(pfn: u64) -> u64 {
    pfn << 12
}

/// `struct evtchn_send` (`event_channel.h`): notify the other end of `port`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EvtchnSend {
    /// The local port.
    pub port: u32,
}

/// `struct evtchn_unmask` (`event_channel.h`): unmask `port`, re-raising it if pending.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EvtchnUnmask {
    /// The local port.
    pub port: u32,
}

/// `struct vcpu_set_singleshot_timer` (`vcpu.h`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VcpuSetSingleshotTimer {
    /// The deadline in Xen system time (ns since Xen booted, the pvclock's `system_time`).
    pub timeout_abs_ns: u64,
    /// `VCPU_SSHOTTMR_*`.
    pub flags: u32,
}

/// `struct iret_context` (`arch-x86/xen-x86_64.h`): the stack `HYPERVISOR_iret` consumes, lowest
/// address first. The guest pushes `flags` over the exception frame (`rip` … `ss`) and jumps to
/// the iret stub, which pushes rcx, r11 and rax and enters Xen; Xen restores rax, r11, rcx (unless
/// [`VGCF_IN_SYSCALL`]), `cs:rip`, `rflags`, `ss:rsp`, and sets the vCPU's
/// `evtchn_upcall_mask` to `!rflags.IF`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct IretContext {
    /// Restored rax (pushed by the stub).
    pub rax: u64,
    /// Restored r11 (pushed by the stub).
    pub r11: u64,
    /// Restored rcx (pushed by the stub).
    pub rcx: u64,
    /// `VGCF_*`: 0 for a return from an event or exception frame.
    pub flags: u64,
    /// Where to resume.
    pub rip: u64,
    /// Code selector (RPL 0–2 means guest kernel mode; bits 32+ of an event frame's slot hold
    /// the saved upcall mask, ignored here).
    pub cs: u64,
    /// Flags; `IF` becomes `!evtchn_upcall_mask`.
    pub rflags: u64,
    /// The stack pointer to resume with.
    pub rsp: u64,
    /// Stack selector.
    pub ss: u64,
}

/// `struct mmu_update` (`xen.h`): `ptr` is the machine address of a page-table entry with the
/// command in bits 0–1 (`MMU_NORMAL_PT_UPDATE` = 0), `val` the new entry.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MmuUpdate {
    /// Machine address of the entry, `| MMU_*` command.
    pub ptr: u64,
    /// The new entry (machine frame + flags).
    pub val: u64,
}

/// `struct evtchn_alloc_unbound` (`event_channel.h`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EvtchnAllocUnbound {
    /// IN: `DOMID_SELF`.
    pub dom: u16,
    /// IN: the domain that may bind the port.
    pub remote_dom: u16,
    /// OUT: the new port.
    pub port: u32,
}

/// `struct xen_hvm_param` (`hvm/hvm_op.h`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HvmParam {
    /// IN: `DOMID_SELF`.
    pub domid: u16,
    /// IN: `HVM_PARAM_*`.
    pub index: u32,
    /// OUT: the value.
    pub value: u64,
}

/// `struct xen_add_to_physmap` (`memory.h`): put a Xen page (the shared info …) at a guest frame.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct AddToPhysmap {
    /// `DOMID_SELF`.
    pub domid: u16,
    /// Pages for `XENMAPSPACE_gmfn_range` (unused otherwise).
    pub size: u16,
    /// `XENMAPSPACE_*`.
    pub space: u32,
    /// Index in the space (0 for the shared info).
    pub idx: u64,
    /// The guest frame to map it at.
    pub gpfn: u64,
}

/// `struct sched_shutdown` (`sched.h`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SchedShutdown {
    /// `SHUTDOWN_*`.
    pub reason: u32,
}

/// `struct physdev_set_iopl` (`physdev.h`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct PhysdevSetIopl {
    /// The virtual I/O privilege level, 0–3.
    pub iopl: u32,
}

/// `struct xencons_interface` (`io/console.h`): the PV console's shared page. The guest produces
/// `out` (what it prints) and consumes `in` (what is typed); byte rings ([`byte_ring`]).
#[repr(C)]
pub struct ConsoleInterface {
    /// Input from the console daemon.
    pub input: [u8; 1024],
    /// Output to the console daemon.
    pub output: [u8; 2048],
    /// `in_cons`: the guest's read index into `input`.
    pub in_cons: u32,
    /// `in_prod`: the daemon's write index into `input`.
    pub in_prod: u32,
    /// `out_cons`: the daemon's read index into `output`.
    pub out_cons: u32,
    /// `out_prod`: the guest's write index into `output`.
    pub out_prod: u32,
}

/// `struct xenstore_domain_interface` (`io/xs_wire.h`): the xenstore ring's shared page. The
/// guest produces `req` and consumes `rsp`; byte rings ([`byte_ring`], protocol [`xenstore`]).
#[repr(C)]
pub struct XenstoreInterface {
    /// Requests to the daemon.
    pub req: [u8; 1024],
    /// Replies and watch events from the daemon.
    pub rsp: [u8; 1024],
    /// The daemon's read index into `req`.
    pub req_cons: u32,
    /// The guest's write index into `req`.
    pub req_prod: u32,
    /// The guest's read index into `rsp`.
    pub rsp_cons: u32,
    /// The daemon's write index into `rsp`.
    pub rsp_prod: u32,
    /// `XENSTORE_SERVER_FEATURE_*` bits.
    pub server_features: u32,
    /// `XENSTORE_CONNECTED` (0) or `XENSTORE_RECONNECT` (1).
    pub connection: u32,
    /// `XENSTORE_ERROR_*`.
    pub error: u32,
}

// Layouts, checked against the Xen 4.17 headers (gcc, x86_64: sizeof/offsetof).
macro_rules! offset {
    ($t:ty, $f:ident, $n:expr) => {
        const _: () = assert!(core::mem::offset_of!($t, $f) == $n);
    };
}
const _: () = assert!(core::mem::size_of::<StartInfo>() == 1168);
offset!(StartInfo, nr_pages, 32);
offset!(StartInfo, shared_info, 40);
offset!(StartInfo, flags, 48);
offset!(StartInfo, store_mfn, 56);
offset!(StartInfo, store_evtchn, 64);
offset!(StartInfo, console, 72);
offset!(StartInfo, pt_base, 88);
offset!(StartInfo, nr_pt_frames, 96);
offset!(StartInfo, mfn_list, 104);
offset!(StartInfo, mod_start, 112);
offset!(StartInfo, mod_len, 120);
offset!(StartInfo, cmd_line, 128);
offset!(StartInfo, first_p2m_pfn, 1152);
offset!(StartInfo, nr_p2m_frames, 1160);
const _: () = assert!(core::mem::size_of::<VcpuTimeInfo>() == 32);
offset!(VcpuTimeInfo, tsc_timestamp, 8);
offset!(VcpuTimeInfo, system_time, 16);
offset!(VcpuTimeInfo, tsc_to_system_mul, 24);
offset!(VcpuTimeInfo, tsc_shift, 28);
offset!(VcpuTimeInfo, flags, 29);
const _: () = assert!(core::mem::size_of::<ArchVcpuInfo>() == 16);
const _: () = assert!(core::mem::size_of::<VcpuInfo>() == 64);
offset!(VcpuInfo, evtchn_upcall_mask, 1);
offset!(VcpuInfo, evtchn_pending_sel, 8);
offset!(VcpuInfo, arch, 16);
offset!(VcpuInfo, time, 32);
const _: () = assert!(core::mem::size_of::<SharedInfo>() == 3136);
offset!(SharedInfo, evtchn_pending, 2048);
offset!(SharedInfo, evtchn_mask, 2560);
offset!(SharedInfo, wc_version, 3072);
offset!(SharedInfo, wc_sec, 3076);
offset!(SharedInfo, wc_nsec, 3080);
offset!(SharedInfo, wc_sec_hi, 3084);
offset!(SharedInfo, arch, 3088);
const _: () = assert!(core::mem::size_of::<TrapInfo>() == 16);
offset!(TrapInfo, flags, 1);
offset!(TrapInfo, cs, 2);
offset!(TrapInfo, address, 8);
const _: () = assert!(core::mem::size_of::<ConsoleInterface>() == 3088);
offset!(ConsoleInterface, output, 1024);
offset!(ConsoleInterface, in_cons, 3072);
offset!(ConsoleInterface, in_prod, 3076);
offset!(ConsoleInterface, out_cons, 3080);
offset!(ConsoleInterface, out_prod, 3084);
const _: () = assert!(core::mem::size_of::<XenstoreInterface>() == 2076);
offset!(XenstoreInterface, rsp, 1024);
offset!(XenstoreInterface, req_cons, 2048);
offset!(XenstoreInterface, req_prod, 2052);
offset!(XenstoreInterface, rsp_cons, 2056);
offset!(XenstoreInterface, rsp_prod, 2060);
offset!(XenstoreInterface, server_features, 2064);
offset!(XenstoreInterface, connection, 2068);
offset!(XenstoreInterface, error, 2072);
const _: () = assert!(core::mem::size_of::<HvmParam>() == 16);
offset!(HvmParam, index, 4);
offset!(HvmParam, value, 8);
const _: () = assert!(core::mem::size_of::<AddToPhysmap>() == 24);
offset!(AddToPhysmap, space, 4);
offset!(AddToPhysmap, idx, 8);
offset!(AddToPhysmap, gpfn, 16);
const _: () = assert!(core::mem::size_of::<EvtchnAllocUnbound>() == 8);
offset!(EvtchnAllocUnbound, remote_dom, 2);
offset!(EvtchnAllocUnbound, port, 4);
const _: () = assert!(core::mem::size_of::<MmuUpdate>() == 16);
offset!(MmuUpdate, val, 8);
const _: () = assert!(core::mem::size_of::<SchedShutdown>() == 4);
const _: () = assert!(core::mem::size_of::<EvtchnBindVirq>() == 12);
offset!(EvtchnBindVirq, vcpu, 4);
offset!(EvtchnBindVirq, port, 8);
const _: () = assert!(core::mem::size_of::<EvtchnSend>() == 4);
const _: () = assert!(core::mem::size_of::<EvtchnUnmask>() == 4);
const _: () = assert!(core::mem::size_of::<VcpuSetSingleshotTimer>() == 16);
offset!(VcpuSetSingleshotTimer, flags, 8);
const _: () = assert!(core::mem::size_of::<IretContext>() == 72);
offset!(IretContext, flags, 24);
offset!(IretContext, rip, 32);
offset!(IretContext, ss, 64);
offset!(VcpuInfo, evtchn_upcall_pending, 0);
const _: () = assert!(core::mem::size_of::<PhysdevSetIopl>() == 4);
const _: () = assert!(core::mem::size_of::<EvtchnBindIpi>() == 8);
offset!(EvtchnBindIpi, port, 4);
const _: () = assert!(core::mem::size_of::<CpuUserRegs>() == 200);
offset!(CpuUserRegs, rsi, 104);
offset!(CpuUserRegs, rdi, 112);
offset!(CpuUserRegs, error_code, 120);
offset!(CpuUserRegs, rip, 128);
offset!(CpuUserRegs, cs, 136);
offset!(CpuUserRegs, saved_upcall_mask, 140);
offset!(CpuUserRegs, rflags, 144);
offset!(CpuUserRegs, rsp, 152);
offset!(CpuUserRegs, ss, 160);
offset!(CpuUserRegs, es, 168);
offset!(CpuUserRegs, ds, 176);
offset!(CpuUserRegs, fs, 184);
offset!(CpuUserRegs, gs, 192);
const _: () = assert!(core::mem::size_of::<VcpuGuestContext>() == 5168);
offset!(VcpuGuestContext, flags, 512);
offset!(VcpuGuestContext, user_regs, 520);
offset!(VcpuGuestContext, trap_ctxt, 720);
offset!(VcpuGuestContext, ldt_base, 4816);
offset!(VcpuGuestContext, gdt_frames, 4832);
offset!(VcpuGuestContext, gdt_ents, 4960);
offset!(VcpuGuestContext, kernel_ss, 4968);
offset!(VcpuGuestContext, kernel_sp, 4976);
offset!(VcpuGuestContext, ctrlreg, 4984);
offset!(VcpuGuestContext, debugreg, 5048);
offset!(VcpuGuestContext, event_callback_eip, 5112);
offset!(VcpuGuestContext, failsafe_callback_eip, 5120);
offset!(VcpuGuestContext, syscall_callback_eip, 5128);
offset!(VcpuGuestContext, vm_assist, 5136);
offset!(VcpuGuestContext, fs_base, 5144);
offset!(VcpuGuestContext, gs_base_kernel, 5152);
offset!(VcpuGuestContext, gs_base_user, 5160);

#[cfg(test)]
mod tests {
    use super::*;

    // The same numbers as the const assertions, from the C side, so a failing build and a failing
    // test point at the same header fact.
    #[test]
    fn layouts_match_the_xen_4_17_headers() {
        assert_eq!(core::mem::size_of::<StartInfo>(), 1168);
        assert_eq!(core::mem::offset_of!(StartInfo, cmd_line), 128);
        assert_eq!(core::mem::size_of::<SharedInfo>(), 3136);
        assert_eq!(core::mem::offset_of!(SharedInfo, wc_version), 3072);
        assert_eq!(core::mem::size_of::<VcpuInfo>(), 64);
        assert_eq!(core::mem::offset_of!(VcpuInfo, time), 32);
        assert_eq!(core::mem::size_of::<TrapInfo>(), 16);
        assert_eq!(core::mem::offset_of!(TrapInfo, address), 8);
        assert_eq!(core::mem::offset_of!(VcpuInfo, evtchn_upcall_pending), 0);
        assert_eq!(core::mem::offset_of!(VcpuInfo, evtchn_upcall_mask), 1);
        assert_eq!(core::mem::offset_of!(VcpuInfo, evtchn_pending_sel), 8);
        assert_eq!(core::mem::offset_of!(SharedInfo, evtchn_pending), 2048);
        assert_eq!(core::mem::offset_of!(SharedInfo, evtchn_mask), 2560);
        assert_eq!(core::mem::size_of::<EvtchnBindVirq>(), 12);
        assert_eq!(core::mem::offset_of!(EvtchnBindVirq, port), 8);
        assert_eq!(core::mem::size_of::<EvtchnSend>(), 4);
        assert_eq!(core::mem::size_of::<EvtchnUnmask>(), 4);
        assert_eq!(core::mem::size_of::<VcpuSetSingleshotTimer>(), 16);
        assert_eq!(core::mem::offset_of!(VcpuSetSingleshotTimer, flags), 8);
        assert_eq!(core::mem::size_of::<IretContext>(), 72);
        assert_eq!(core::mem::offset_of!(IretContext, flags), 24);
        assert_eq!(core::mem::offset_of!(IretContext, rip), 32);
        // vcpu_guest_context and cpu_user_regs (gcc, x86_64, 4.17 headers).
        assert_eq!(core::mem::size_of::<EvtchnBindIpi>(), 8);
        assert_eq!(core::mem::size_of::<CpuUserRegs>(), 200);
        assert_eq!(core::mem::offset_of!(CpuUserRegs, rip), 128);
        assert_eq!(core::mem::offset_of!(CpuUserRegs, rsp), 152);
        assert_eq!(core::mem::size_of::<VcpuGuestContext>(), 5168);
        assert_eq!(core::mem::offset_of!(VcpuGuestContext, trap_ctxt), 720);
        assert_eq!(core::mem::offset_of!(VcpuGuestContext, ctrlreg), 4984);
        assert_eq!(core::mem::offset_of!(VcpuGuestContext, event_callback_eip), 5112);
        assert_eq!(core::mem::offset_of!(VcpuGuestContext, gs_base_kernel), 5152);
    }

    #[test]
    fn vcpu_numbers() {
        // As a C program printed them from the 4.17 headers.
        assert_eq!(hypercall::VCPUOP_INITIALISE, 0);
        assert_eq!(hypercall::VCPUOP_UP, 1);
        assert_eq!(hypercall::VCPUOP_IS_UP, 3);
        assert_eq!(hypercall::EVTCHNOP_BIND_IPI, 7);
        assert_eq!(VGCF_IN_KERNEL, 4);
        assert_eq!(pfn_to_cr3(0x1234), 0x123_4000);
        let context = VcpuGuestContext::zeroed();
        assert_eq!(context.trap_ctxt[255].address, 0);
    }

    #[test]
    fn selectors_and_numbers() {
        // FLAT_KERNEL_CS 57395, FLAT_KERNEL_SS 57387 as the headers print them.
        assert_eq!(selector::FLAT_KERNEL_CS, 57395);
        assert_eq!(selector::FLAT_KERNEL_SS, 57387);
        assert_eq!(hypercall::SCHED_OP, 29);
        assert_eq!(hypercall::PHYSDEV_OP, 33);
        // The event-channel and timer numbers, as a C program printed them from the 4.17 headers.
        assert_eq!(hypercall::SET_CALLBACKS, 4);
        assert_eq!(hypercall::IRET, 23);
        assert_eq!(hypercall::VCPU_OP, 24);
        assert_eq!(hypercall::EVENT_CHANNEL_OP, 32);
        assert_eq!(hypercall::SCHEDOP_BLOCK, 1);
        assert_eq!(hypercall::EVTCHNOP_BIND_VIRQ, 1);
        assert_eq!(hypercall::EVTCHNOP_SEND, 4);
        assert_eq!(hypercall::EVTCHNOP_UNMASK, 9);
        assert_eq!(hypercall::VCPUOP_STOP_PERIODIC_TIMER, 7);
        assert_eq!(hypercall::VCPUOP_SET_SINGLESHOT_TIMER, 8);
        assert_eq!(hypercall::VCPUOP_STOP_SINGLESHOT_TIMER, 9);
        assert_eq!(VIRQ_TIMER, 0);
        assert_eq!(VCPU_SSHOTTMR_FUTURE, 1);
        assert_eq!(VGCF_IN_SYSCALL, 256);
        assert_eq!(EVTCHN_2L_NR_CHANNELS, 4096);
    }

    #[test]
    fn console_union_accessors() {
        let mut info = StartInfo::zeroed();
        info.console = [0x1234, 7];
        assert_eq!(info.console_mfn(), 0x1234);
        assert_eq!(info.console_evtchn(), 7);
    }
}
