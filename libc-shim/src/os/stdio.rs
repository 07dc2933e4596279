//! The standard streams: `stdin`, `stdout`, `stderr` as glibc 2.36 `FILE`s, and the stdio
//! functions over them.
//!
//! Each stream starts with glibc's `struct _IO_FILE` (216 bytes on both targets), because code
//! compiled against glibc's headers — the prebuilt libstdc++ among it — reads fields inline:
//! `_flags` for `ferror`/`feof`, the read and write pointers for `getc_unlocked`/
//! `putc_unlocked`. Those pointers stay NULL, so the inline fast paths always call
//! `__uflow`/`__overflow`, and every byte comes through here. Rivet's own state (mode and
//! buffer) follows, behind a lock.
//!
//! `stdout` is line-buffered (flushed at `\n`, by `fflush`, when full and at `exit`), `stderr`
//! unbuffered; both go to the console. `stdin` is always at end of file. Files cannot be opened
//! yet: `fopen` fails with ENOENT, and only these three `FILE`s exist, so a `FILE *` that is not
//! one of them is refused with EBADF rather than dereferenced.

use crate::os::alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int, c_void, CStr};
use core::ptr::null_mut;
use rivet::sync::Mutex;

use crate::os::errno::{self, code};

/// C's `EOF`.
const EOF: c_int = -1;
/// glibc's `_flags` magic (`_IO_MAGIC`) and the bits inline macros test.
const IO_MAGIC: c_int = 0xFBAD_0000_u32 as c_int;
const IO_EOF_SEEN: c_int = 0x10;
const IO_ERR_SEEN: c_int = 0x20;
/// glibc's `BUFSIZ`.
const BUFFER_SIZE: usize = 8192;

/// `setvbuf` modes (glibc's values).
const IOFBF: c_int = 0;
const IOLBF: c_int = 1;
const IONBF: c_int = 2;

/// glibc 2.36's `struct _IO_FILE`, field for field (only `flags` and `fileno` are used).
#[repr(C)]
pub struct IoFile {
    flags: c_int,
    read_write_pointers: [*mut c_char; 11],
    markers: *mut c_void,
    chain: *mut IoFile,
    fileno: c_int,
    flags2: c_int,
    old_offset: i64,
    cur_column: u16,
    vtable_offset: i8,
    shortbuf: [c_char; 1],
    lock: *mut c_void,
    offset: i64,
    codecvt: *mut c_void,
    wide_data: *mut c_void,
    freeres_list: *mut IoFile,
    freeres_buf: *mut c_void,
    pad5: usize,
    mode: c_int,
    unused2: [c_char; 20],
}

const _: () = assert!(core::mem::size_of::<IoFile>() == 216);
const _: () = assert!(core::mem::offset_of!(IoFile, fileno) == 112);
const _: () = assert!(core::mem::offset_of!(IoFile, mode) == 192);

/// How a stream buffers output.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Buffering {
    Full,
    Line,
    None,
}

/// One standard stream: glibc's header, then Rivet's state.
#[repr(C)]
pub struct Stream {
    file: UnsafeCell<IoFile>,
    state: Mutex<State>,
}

struct State {
    buffering: Buffering,
    pending: Vec<u8>,
}

// SAFETY: `file` is written only while `state`'s lock is held (its flags) and otherwise only
// read; C code that writes it concurrently without `flockfile` is racing as it would on glibc.
unsafe impl Sync for Stream {}

impl Stream {
    const fn new(fileno: c_int, buffering: Buffering) -> Self {
        Stream {
            file: UnsafeCell::new(IoFile {
                flags: IO_MAGIC,
                read_write_pointers: [null_mut(); 11],
                markers: null_mut(),
                chain: null_mut(),
                fileno,
                flags2: 0,
                old_offset: -1,
                cur_column: 0,
                vtable_offset: 0,
                shortbuf: [0],
                lock: null_mut(),
                offset: -1,
                codecvt: null_mut(),
                wide_data: null_mut(),
                freeres_list: null_mut(),
                freeres_buf: null_mut(),
                pad5: 0,
                mode: -1,
                unused2: [0; 20],
            }),
            state: Mutex::new(State { buffering, pending: Vec::new() }),
        }
    }

    fn fileno(&self) -> c_int {
        // SAFETY: `fileno` is never written after construction.
        unsafe { (*self.file.get()).fileno }
    }

    fn set_flag(&self, flag: c_int, on: bool) {
        // SAFETY: called with `state` locked (see the `Sync` impl); a plain int write.
        unsafe {
            let flags = &mut (*self.file.get()).flags;
            *flags = if on { *flags | flag } else { *flags & !flag };
        }
    }

    fn flags(&self) -> c_int {
        // SAFETY: a plain int read of a field only written under the lock.
        unsafe { (*self.file.get()).flags }
    }

    fn write(&self, bytes: &[u8]) -> usize {
        if self.fileno() == 0 {
            let _lock = self.state.lock();
            self.set_flag(IO_ERR_SEEN, true);
            errno::set(code::EBADF);
            return 0;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match state.buffering {
            Buffering::None => {
                flush_pending(&mut state.pending);
                rivet::io::write_bytes(bytes);
            }
            Buffering::Line => {
                state.pending.extend_from_slice(bytes);
                if let Some(last) = state.pending.iter().rposition(|&b| b == b'\n') {
                    let rest = state.pending.split_off(last + 1);
                    flush_pending(&mut state.pending);
                    state.pending = rest;
                }
                if state.pending.len() >= BUFFER_SIZE {
                    flush_pending(&mut state.pending);
                }
            }
            Buffering::Full => {
                state.pending.extend_from_slice(bytes);
                if state.pending.len() >= BUFFER_SIZE {
                    flush_pending(&mut state.pending);
                }
            }
        }
        bytes.len()
    }

    fn flush(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        flush_pending(&mut state.pending);
    }
}

fn flush_pending(pending: &mut Vec<u8>) {
    if !pending.is_empty() {
        rivet::io::write_bytes(pending);
        pending.clear();
    }
}

static STDIN: Stream = Stream::new(0, Buffering::Full);
static STDOUT: Stream = Stream::new(1, Buffering::Line);
static STDERR: Stream = Stream::new(2, Buffering::None);

/// C's `stdin` (always at end of file).
#[no_mangle]
pub static mut stdin: *mut IoFile = STDIN.file.get();
/// C's `stdout`: the console, line-buffered.
#[no_mangle]
pub static mut stdout: *mut IoFile = STDOUT.file.get();
/// C's `stderr`: the console, unbuffered.
#[no_mangle]
pub static mut stderr: *mut IoFile = STDERR.file.get();

/// The stream a C `FILE *` names, if it is one of ours.
fn stream(file: *mut IoFile) -> Option<&'static Stream> {
    [&STDIN, &STDOUT, &STDERR].into_iter().find(|s| s.file.get() == file)
}

/// The stream, or EBADF.
fn stream_or_ebadf(file: *mut IoFile) -> Result<&'static Stream, c_int> {
    stream(file).ok_or_else(|| {
        errno::set(code::EBADF);
        EOF
    })
}

/// Flushes every stream (`exit` calls this).
pub(crate) fn flush_all() {
    STDOUT.flush();
    STDERR.flush();
}

/// Writes bytes to the console for file descriptors 1 and 2 (`write`).
pub(crate) fn write_fd(fd: c_int, bytes: &[u8]) -> Result<usize, c_int> {
    match fd {
        1 | 2 => {
            rivet::io::write_bytes(bytes);
            Ok(bytes.len())
        }
        _ => Err(code::EBADF),
    }
}

/// The C half's hook (csrc/rivet_stdio.h): the FILE-based printf functions end here.
///
/// # Safety
/// 1. `bytes` is valid for reads of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn __rivet_file_write(
    file: *mut IoFile,
    bytes: *const c_char,
    len: usize,
) -> usize {
    let Ok(stream) = stream_or_ebadf(file) else { return 0 };
    if len == 0 {
        return 0;
    }
    // SAFETY: obligation 1.
    stream.write(unsafe { core::slice::from_raw_parts(bytes.cast(), len) })
}

/// The C half's hook for `dprintf`: `write` under an internal name.
///
/// # Safety
/// 1. `bytes` is valid for reads of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn __rivet_fd_write(fd: c_int, bytes: *const c_char, len: usize) -> isize {
    // SAFETY: obligation 1.
    unsafe { crate::os::unistd::write(fd, bytes.cast(), len) }
}

/// Writes `count` items of `size` bytes; returns the items written.
///
/// # Safety
/// 1. `data` is valid for reads of `size * count` bytes.
#[no_mangle]
pub unsafe extern "C" fn fwrite(
    data: *const c_void,
    size: usize,
    count: usize,
    file: *mut IoFile,
) -> usize {
    let Some(total) = size.checked_mul(count) else { return 0 };
    if total == 0 {
        return 0;
    }
    // SAFETY: obligation 1 (the product was checked above).
    let written = unsafe { __rivet_file_write(file, data.cast(), total) };
    written / size
}

/// `fwrite` without locking (the same here).
///
/// # Safety
/// As for [`fwrite`].
#[no_mangle]
pub unsafe extern "C" fn fwrite_unlocked(
    data: *const c_void,
    size: usize,
    count: usize,
    file: *mut IoFile,
) -> usize {
    // SAFETY: the caller's obligations are fwrite's.
    unsafe { fwrite(data, size, count, file) }
}

/// Writes a C string.
///
/// # Safety
/// 1. `text` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn fputs(text: *const c_char, file: *mut IoFile) -> c_int {
    if text.is_null() {
        panic!("fputs(): NULL string");
    }
    // SAFETY: obligation 1.
    let bytes = unsafe { CStr::from_ptr(text) }.to_bytes();
    let Ok(stream) = stream_or_ebadf(file) else { return EOF };
    if stream.write(bytes) == bytes.len() {
        1
    } else {
        EOF
    }
}

/// `fputs` without locking.
///
/// # Safety
/// As for [`fputs`].
#[no_mangle]
pub unsafe extern "C" fn fputs_unlocked(text: *const c_char, file: *mut IoFile) -> c_int {
    // SAFETY: the caller's obligations are fputs's.
    unsafe { fputs(text, file) }
}

/// Writes a C string and a newline to `stdout`.
///
/// # Safety
/// 1. `text` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn puts(text: *const c_char) -> c_int {
    if text.is_null() {
        panic!("puts(): NULL string");
    }
    // SAFETY: obligation 1.
    let bytes = unsafe { CStr::from_ptr(text) }.to_bytes();
    let mut line = Vec::with_capacity(bytes.len() + 1);
    line.extend_from_slice(bytes);
    line.push(b'\n');
    if STDOUT.write(&line) == line.len() {
        1
    } else {
        EOF
    }
}

fn put_byte(byte: c_int, file: *mut IoFile) -> c_int {
    let Ok(stream) = stream_or_ebadf(file) else { return EOF };
    let b = byte as u8;
    if stream.write(&[b]) == 1 {
        c_int::from(b)
    } else {
        EOF
    }
}

/// Writes one byte.
#[no_mangle]
pub extern "C" fn fputc(byte: c_int, file: *mut IoFile) -> c_int {
    put_byte(byte, file)
}

/// Writes one byte (`putc` is a function in glibc too).
#[no_mangle]
pub extern "C" fn putc(byte: c_int, file: *mut IoFile) -> c_int {
    put_byte(byte, file)
}

/// Writes one byte without locking.
#[no_mangle]
pub extern "C" fn fputc_unlocked(byte: c_int, file: *mut IoFile) -> c_int {
    put_byte(byte, file)
}

/// Writes one byte without locking.
#[no_mangle]
pub extern "C" fn putc_unlocked(byte: c_int, file: *mut IoFile) -> c_int {
    put_byte(byte, file)
}

/// glibc's old name for `putc`.
#[no_mangle]
pub extern "C" fn _IO_putc(byte: c_int, file: *mut IoFile) -> c_int {
    put_byte(byte, file)
}

/// Writes one byte to `stdout`.
#[no_mangle]
pub extern "C" fn putchar(byte: c_int) -> c_int {
    put_byte(byte, STDOUT.file.get())
}

/// Writes one byte to `stdout` without locking.
#[no_mangle]
pub extern "C" fn putchar_unlocked(byte: c_int) -> c_int {
    put_byte(byte, STDOUT.file.get())
}

/// Where inline `putc_unlocked` lands when the (always empty) write buffer is full.
#[no_mangle]
pub extern "C" fn __overflow(file: *mut IoFile, byte: c_int) -> c_int {
    if byte == EOF {
        return fflush(file);
    }
    put_byte(byte, file)
}

fn read_end(file: *mut IoFile) -> c_int {
    if let Ok(stream) = stream_or_ebadf(file) {
        let _lock = stream.state.lock();
        stream.set_flag(IO_EOF_SEEN, true);
    }
    EOF
}

/// Reads one byte: always end of file (there is no input yet).
#[no_mangle]
pub extern "C" fn fgetc(file: *mut IoFile) -> c_int {
    read_end(file)
}

/// Reads one byte (end of file).
#[no_mangle]
pub extern "C" fn getc(file: *mut IoFile) -> c_int {
    read_end(file)
}

/// Reads one byte without locking (end of file).
#[no_mangle]
pub extern "C" fn getc_unlocked(file: *mut IoFile) -> c_int {
    read_end(file)
}

/// glibc's old name for `getc`.
#[no_mangle]
pub extern "C" fn _IO_getc(file: *mut IoFile) -> c_int {
    read_end(file)
}

/// Reads one byte from `stdin` (end of file).
#[no_mangle]
pub extern "C" fn getchar() -> c_int {
    read_end(STDIN.file.get())
}

/// Where inline `getc_unlocked` lands when the (always empty) read buffer is used up.
#[no_mangle]
pub extern "C" fn __uflow(file: *mut IoFile) -> c_int {
    read_end(file)
}

/// Peeks at the next byte (end of file).
#[no_mangle]
pub extern "C" fn __underflow(file: *mut IoFile) -> c_int {
    read_end(file)
}

/// Pushes a byte back: refused (nothing was read).
#[no_mangle]
pub extern "C" fn ungetc(_byte: c_int, _file: *mut IoFile) -> c_int {
    EOF
}

/// Reads a line: end of file, so NULL.
#[no_mangle]
pub extern "C" fn fgets(_buffer: *mut c_char, _size: c_int, file: *mut IoFile) -> *mut c_char {
    read_end(file);
    null_mut()
}

/// Reads items: none (end of file).
#[no_mangle]
pub extern "C" fn fread(
    _data: *mut c_void,
    _size: usize,
    _count: usize,
    file: *mut IoFile,
) -> usize {
    read_end(file);
    0
}

/// `fread` without locking.
#[no_mangle]
pub extern "C" fn fread_unlocked(
    data: *mut c_void,
    size: usize,
    count: usize,
    file: *mut IoFile,
) -> usize {
    fread(data, size, count, file)
}

/// Writes out what `file` has buffered (NULL: every stream).
#[no_mangle]
pub extern "C" fn fflush(file: *mut IoFile) -> c_int {
    if file.is_null() {
        flush_all();
        return 0;
    }
    match stream_or_ebadf(file) {
        Ok(stream) => {
            stream.flush();
            0
        }
        Err(eof) => eof,
    }
}

/// `fflush` without locking.
#[no_mangle]
pub extern "C" fn fflush_unlocked(file: *mut IoFile) -> c_int {
    fflush(file)
}

/// The file descriptor behind a stream.
#[no_mangle]
pub extern "C" fn fileno(file: *mut IoFile) -> c_int {
    stream_or_ebadf(file).map_or(-1, Stream::fileno)
}

/// Changes a stream's buffering (`buffer` is ignored: the shim keeps its own).
#[no_mangle]
pub extern "C" fn setvbuf(
    file: *mut IoFile,
    _buffer: *mut c_char,
    mode: c_int,
    _size: usize,
) -> c_int {
    let Ok(stream) = stream_or_ebadf(file) else { return -1 };
    let buffering = match mode {
        IOFBF => Buffering::Full,
        IOLBF => Buffering::Line,
        IONBF => Buffering::None,
        _ => {
            errno::set(code::EINVAL);
            return -1;
        }
    };
    let mut state = stream.state.lock().unwrap_or_else(|e| e.into_inner());
    flush_pending(&mut state.pending);
    state.buffering = buffering;
    0
}

/// `setbuf`: unbuffered when `buffer` is NULL, else fully buffered.
#[no_mangle]
pub extern "C" fn setbuf(file: *mut IoFile, buffer: *mut c_char) {
    let mode = if buffer.is_null() { IONBF } else { IOFBF };
    setvbuf(file, buffer, mode, BUFFER_SIZE);
}

/// Whether a write to the stream failed.
#[no_mangle]
pub extern "C" fn ferror(file: *mut IoFile) -> c_int {
    stream(file).map_or(0, |s| c_int::from(s.flags() & IO_ERR_SEEN != 0))
}

/// Whether a read reached end of file.
#[no_mangle]
pub extern "C" fn feof(file: *mut IoFile) -> c_int {
    stream(file).map_or(0, |s| c_int::from(s.flags() & IO_EOF_SEEN != 0))
}

/// Clears the error and end-of-file flags.
#[no_mangle]
pub extern "C" fn clearerr(file: *mut IoFile) {
    if let Some(stream) = stream(file) {
        let _lock = stream.state.lock();
        stream.set_flag(IO_ERR_SEEN | IO_EOF_SEEN, false);
    }
}

/// Locks a stream for a sequence of calls: a no-op (each call locks on its own).
#[no_mangle]
pub extern "C" fn flockfile(_file: *mut IoFile) {}

/// See [`flockfile`].
#[no_mangle]
pub extern "C" fn funlockfile(_file: *mut IoFile) {}

/// See [`flockfile`]; always succeeds.
#[no_mangle]
pub extern "C" fn ftrylockfile(_file: *mut IoFile) -> c_int {
    0
}

/// Opens a file: there are no files yet (ENOENT).
#[no_mangle]
pub extern "C" fn fopen(_path: *const c_char, _mode: *const c_char) -> *mut IoFile {
    errno::set(code::ENOENT);
    null_mut()
}

/// `fopen` under its large-file name.
#[no_mangle]
pub extern "C" fn fopen64(path: *const c_char, mode: *const c_char) -> *mut IoFile {
    fopen(path, mode)
}

/// Reopens a stream: no files yet (ENOENT).
#[no_mangle]
pub extern "C" fn freopen(
    _path: *const c_char,
    _mode: *const c_char,
    _file: *mut IoFile,
) -> *mut IoFile {
    errno::set(code::ENOENT);
    null_mut()
}

/// A stream over a file descriptor: none can be made yet (ENOSYS).
#[no_mangle]
pub extern "C" fn fdopen(_fd: c_int, _mode: *const c_char) -> *mut IoFile {
    errno::set(code::ENOSYS);
    null_mut()
}

/// Closes a stream: the standard streams are flushed and stay usable.
#[no_mangle]
pub extern "C" fn fclose(file: *mut IoFile) -> c_int {
    fflush(file)
}

/// Seeks: the console cannot (ESPIPE).
#[no_mangle]
pub extern "C" fn fseek(file: *mut IoFile, _offset: i64, _whence: c_int) -> c_int {
    if stream_or_ebadf(file).is_ok() {
        errno::set(code::ESPIPE);
    }
    -1
}

/// `fseek` with an `off_t`.
#[no_mangle]
pub extern "C" fn fseeko(file: *mut IoFile, offset: i64, whence: c_int) -> c_int {
    fseek(file, offset, whence)
}

/// `fseeko` under its large-file name.
#[no_mangle]
pub extern "C" fn fseeko64(file: *mut IoFile, offset: i64, whence: c_int) -> c_int {
    fseek(file, offset, whence)
}

/// Position in a stream: the console has none (ESPIPE).
#[no_mangle]
pub extern "C" fn ftell(file: *mut IoFile) -> i64 {
    fseek(file, 0, 0).into()
}

/// `ftell` with an `off_t`.
#[no_mangle]
pub extern "C" fn ftello(file: *mut IoFile) -> i64 {
    ftell(file)
}

/// `ftello` under its large-file name.
#[no_mangle]
pub extern "C" fn ftello64(file: *mut IoFile) -> i64 {
    ftell(file)
}

/// Rewinds a stream: clears its flags (the console cannot seek).
#[no_mangle]
pub extern "C" fn rewind(file: *mut IoFile) {
    clearerr(file);
}

/// Removes a file: there are none (ENOENT).
#[no_mangle]
pub extern "C" fn remove(_path: *const c_char) -> c_int {
    errno::set(code::ENOENT);
    -1
}

/// Renames a file: there are none (ENOENT).
#[no_mangle]
pub extern "C" fn rename(_old: *const c_char, _new: *const c_char) -> c_int {
    errno::set(code::ENOENT);
    -1
}

/// A temporary file: none can be made (ENOSYS).
#[no_mangle]
pub extern "C" fn tmpfile() -> *mut IoFile {
    errno::set(code::ENOSYS);
    null_mut()
}

/// C's `WEOF`.
const WEOF: u32 = u32::MAX;

/// Writes a wide character, UTF-8 encoded (the "C" locale has no multibyte encoding, but
/// UTF-8 is what a console shows); EILSEQ for a value that is not a character.
#[no_mangle]
pub extern "C" fn fputwc(character: u32, file: *mut IoFile) -> u32 {
    let Some(c) = char::from_u32(character) else {
        errno::set(84 /* EILSEQ */);
        return WEOF;
    };
    let Ok(stream) = stream_or_ebadf(file) else { return WEOF };
    let mut utf8 = [0u8; 4];
    let bytes = c.encode_utf8(&mut utf8).as_bytes();
    if stream.write(bytes) == bytes.len() {
        character
    } else {
        WEOF
    }
}

/// See [`fputwc`].
#[no_mangle]
pub extern "C" fn putwc(character: u32, file: *mut IoFile) -> u32 {
    fputwc(character, file)
}

/// [`fputwc`] to `stdout`.
#[no_mangle]
pub extern "C" fn putwchar(character: u32) -> u32 {
    fputwc(character, STDOUT.file.get())
}

/// Reads a wide character: end of file.
#[no_mangle]
pub extern "C" fn fgetwc(file: *mut IoFile) -> u32 {
    read_end(file);
    WEOF
}

/// See [`fgetwc`].
#[no_mangle]
pub extern "C" fn getwc(file: *mut IoFile) -> u32 {
    fgetwc(file)
}

/// Pushes back a wide character: refused (nothing was read).
#[no_mangle]
pub extern "C" fn ungetwc(_character: u32, _file: *mut IoFile) -> u32 {
    WEOF
}

extern "C" {
    fn strerror(error: c_int) -> *const c_char;
}

/// Prints `prefix: <message for errno>` to stderr (just the message when `prefix` is NULL or
/// empty).
///
/// # Safety
/// 1. `prefix` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn perror(prefix: *const c_char) {
    let error = crate::os::errno::get();
    // SAFETY: strerror returns a NUL-terminated message for any value.
    let message = unsafe { CStr::from_ptr(strerror(error)) }.to_bytes();
    let mut line = Vec::new();
    if !prefix.is_null() {
        // SAFETY: obligation 1.
        let prefix = unsafe { CStr::from_ptr(prefix) }.to_bytes();
        if !prefix.is_empty() {
            line.extend_from_slice(prefix);
            line.extend_from_slice(b": ");
        }
    }
    line.extend_from_slice(message);
    line.push(b'\n');
    STDERR.write(&line);
}
