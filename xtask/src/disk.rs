//! Deployable disk images: a Raspberry Pi SD card (MBR + FAT boot partition) and a GPT disk with
//! an EFI system partition (UEFI machines such as AWS Graviton instances).
//!
//! The partition tables are written here (MBR, GPT with its CRC32s); the FAT file systems are made
//! with mtools (`mformat`, `mmd`, `mcopy` on `IMAGE@@OFFSET`), which needs no root and no loop
//! device (`ci/setup.sh` installs mtools). Partitions start at 1 MiB. Weak spots: the partition
//! size is fixed (64 MiB, FAT32), and nothing here checks that the files fit.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::debian;
use crate::Error;

/// Bytes per sector.
pub const SECTOR: u64 = 512;
/// First sector of the one partition (1 MiB).
pub const PART_START: u64 = 2048;
/// Sectors in the one partition (64 MiB: FAT32 with 512-byte clusters has enough clusters).
pub const PART_SECTORS: u64 = 131072;

/// GPT partition type of an EFI system partition, C12A7328-F81F-11D2-BA4B-00A0C93EC93B.
pub const ESP_TYPE: [u8; 16] =
    guid(0xC12A7328, 0xF81F, 0x11D2, [0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B]);

/// A GUID in its on-disk (mixed-endian) byte order.
pub const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_le_bytes();
    let (b, c) = (b.to_le_bytes(), c.to_le_bytes());
    [a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]
}

/// CRC-32 (IEEE 802.3, reflected), as GPT uses it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// A master boot record with one partition of `kind` (0x0C FAT32 LBA, 0xEE GPT protective).
pub fn mbr(kind: u8, start: u64, sectors: u64) -> [u8; 512] {
    let mut sector = [0u8; 512];
    let entry = &mut sector[446..462];
    // CHS fields: the "use LBA" values (0xFE 0xFF 0xFF), as every modern tool writes.
    entry[1..4].copy_from_slice(&[0x00, 0x02, 0x00]);
    entry[4] = kind;
    entry[5..8].copy_from_slice(&[0xFE, 0xFF, 0xFF]);
    entry[8..12].copy_from_slice(&(start.min(u64::from(u32::MAX)) as u32).to_le_bytes());
    entry[12..16].copy_from_slice(&(sectors.min(u64::from(u32::MAX)) as u32).to_le_bytes());
    sector[510] = 0x55;
    sector[511] = 0xAA;
    sector
}

/// The GPT structures of a disk of `total` sectors with one partition: (primary header + entries
/// to write at LBA 1, backup entries + header to write at `total - 33`).
pub fn gpt(
    total: u64,
    part_type: [u8; 16],
    disk_guid: [u8; 16],
    part_guid: [u8; 16],
    name: &str,
) -> (Vec<u8>, Vec<u8>) {
    const ENTRIES: usize = 128;
    const ENTRY_SIZE: usize = 128;
    let mut entries = vec![0u8; ENTRIES * ENTRY_SIZE];
    entries[0..16].copy_from_slice(&part_type);
    entries[16..32].copy_from_slice(&part_guid);
    entries[32..40].copy_from_slice(&PART_START.to_le_bytes());
    entries[40..48].copy_from_slice(&(PART_START + PART_SECTORS - 1).to_le_bytes());
    for (i, unit) in name.encode_utf16().take(36).enumerate() {
        entries[56 + 2 * i..58 + 2 * i].copy_from_slice(&unit.to_le_bytes());
    }
    let entries_crc = crc32(&entries);
    let header = |mine: u64, other: u64, entries_at: u64| {
        let mut h = vec![0u8; SECTOR as usize];
        h[0..8].copy_from_slice(b"EFI PART");
        h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
        h[12..16].copy_from_slice(&92u32.to_le_bytes());
        h[24..32].copy_from_slice(&mine.to_le_bytes());
        h[32..40].copy_from_slice(&other.to_le_bytes());
        h[40..48].copy_from_slice(&34u64.to_le_bytes());
        h[48..56].copy_from_slice(&(total - 34).to_le_bytes());
        h[56..72].copy_from_slice(&disk_guid);
        h[72..80].copy_from_slice(&entries_at.to_le_bytes());
        h[80..84].copy_from_slice(&(ENTRIES as u32).to_le_bytes());
        h[84..88].copy_from_slice(&(ENTRY_SIZE as u32).to_le_bytes());
        h[88..92].copy_from_slice(&entries_crc.to_le_bytes());
        let crc = crc32(&h[..92]);
        h[16..20].copy_from_slice(&crc.to_le_bytes());
        h
    };
    let mut primary = header(1, total - 1, 2);
    primary.extend_from_slice(&entries);
    let mut backup = entries;
    backup.extend_from_slice(&header(total - 1, 1, total - 33));
    (primary, backup)
}

/// A file to put into a FAT partition: its path there (`/`-separated) and its content.
#[derive(Debug, Clone)]
pub enum Content {
    /// Copied from a host file.
    File(PathBuf),
    /// These bytes.
    Bytes(Vec<u8>),
}

fn mtools(tool: &str, image: &str) -> Command {
    let mut command = Command::new(tool);
    command.arg("-i").arg(image);
    command
}

/// Makes a FAT32 file system in the partition at [`PART_START`] of `image` and fills it.
pub fn fill_fat(image: &Path, label: &str, files: &[(String, Content)]) -> Result<(), Error> {
    let at = format!("{}@@{}", image.display(), PART_START * SECTOR);
    let hint = |e: Error| Error::Tool(format!("{e} (ci/setup.sh installs mtools)"));
    debian::run(
        mtools("mformat", &at)
            .args(["-F", "-T", &PART_SECTORS.to_string(), "-H", &PART_START.to_string()])
            .args(["-v", label, "::"]),
    )
    .map_err(hint)?;
    let scratch = image.with_extension("files");
    std::fs::create_dir_all(&scratch)
        .map_err(|e| Error::Tool(format!("{}: {e}", scratch.display())))?;
    let mut made = std::collections::BTreeSet::new();
    for (n, (dest, content)) in files.iter().enumerate() {
        let parts: Vec<&str> = dest.split('/').filter(|p| !p.is_empty()).collect();
        for depth in 1..parts.len() {
            let dir = format!("::/{}", parts[..depth].join("/"));
            if made.insert(dir.clone()) {
                debian::run(mtools("mmd", &at).arg(&dir)).map_err(hint)?;
            }
        }
        let source = match content {
            Content::File(path) => path.clone(),
            Content::Bytes(bytes) => {
                let path = scratch.join(n.to_string());
                std::fs::write(&path, bytes)
                    .map_err(|e| Error::Tool(format!("{}: {e}", path.display())))?;
                path
            }
        };
        debian::run(
            mtools("mcopy", &at).arg("-o").arg(&source).arg(format!("::/{}", parts.join("/"))),
        )
        .map_err(hint)?;
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

fn create(image: &Path, bytes: u64) -> Result<std::fs::File, Error> {
    let io = |e: std::io::Error| Error::Tool(format!("{}: {e}", image.display()));
    if let Some(parent) = image.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let file = std::fs::File::create(image).map_err(io)?;
    file.set_len(bytes).map_err(io)?;
    Ok(file)
}

fn write_at(file: &std::fs::File, offset: u64, bytes: &[u8], image: &Path) -> Result<(), Error> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(bytes, offset).map_err(|e| Error::Tool(format!("{}: {e}", image.display())))
}

/// Writes an SD-card image: an MBR with one FAT32 partition (type 0x0C) holding `files`.
pub fn sdcard(image: &Path, files: &[(String, Content)]) -> Result<(), Error> {
    let total = PART_START + PART_SECTORS;
    let file = create(image, total * SECTOR)?;
    write_at(&file, 0, &mbr(0x0C, PART_START, PART_SECTORS), image)?;
    drop(file);
    fill_fat(image, "RIVETBOOT", files)
}

/// Writes a GPT disk image with one EFI system partition holding `files`. The GUIDs derive from
/// `seed` (the same input gives the same image).
pub fn esp_disk(image: &Path, seed: &str, files: &[(String, Content)]) -> Result<(), Error> {
    let total = PART_START + PART_SECTORS + 2048;
    let file = create(image, total * SECTOR)?;
    // Protective MBR covering the whole disk.
    write_at(&file, 0, &mbr(0xEE, 1, total - 1), image)?;
    let id = |salt: &str| {
        let mut bytes = [0u8; 16];
        for (i, chunk) in bytes.chunks_mut(4).enumerate() {
            chunk.copy_from_slice(&crc32(format!("{salt}{i}{seed}").as_bytes()).to_le_bytes());
        }
        bytes[7] = (bytes[7] & 0x0F) | 0x40; // version 4 (random-looking)
        bytes[8] = (bytes[8] & 0x3F) | 0x80; // RFC 4122 variant
        bytes
    };
    let (primary, backup) = gpt(total, ESP_TYPE, id("disk"), id("esp"), "EFI system partition");
    write_at(&file, SECTOR, &primary, image)?;
    write_at(&file, (total - 33) * SECTOR, &backup, image)?;
    drop(file);
    fill_fat(image, "RIVETESP", files)
}

/// The Raspberry Pi `config.txt`: 64-bit, UART on, our kernel file name.
pub fn pi_config(board: &str) -> String {
    format!(
        "# Raspberry Pi boot configuration for Rivet (board {board}), written by `cargo xtask sdcard`.\n\
         # 64-bit: the firmware loads kernel8.img at EL2 and passes the device tree in x0.\n\
         arm_64bit=1\n\
         kernel=kernel8.img\n\
         # The serial console on GPIO 14 (TXD) / 15 (RXD), 115200 8N1.\n\
         enable_uart=1\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn esp_guid_bytes() {
        // The on-disk bytes of C12A7328-F81F-11D2-BA4B-00A0C93EC93B.
        assert_eq!(
            ESP_TYPE,
            [
                0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E,
                0xC9, 0x3B
            ]
        );
    }

    #[test]
    fn mbr_layout() {
        let m = mbr(0x0C, 2048, 131072);
        assert_eq!(&m[510..], [0x55, 0xAA]);
        assert_eq!(m[446 + 4], 0x0C);
        assert_eq!(u32::from_le_bytes(m[454..458].try_into().unwrap()), 2048);
        assert_eq!(u32::from_le_bytes(m[458..462].try_into().unwrap()), 131072);
    }

    #[test]
    fn gpt_headers_check_out() {
        let total = PART_START + PART_SECTORS + 2048;
        let (primary, backup) = gpt(total, ESP_TYPE, [1; 16], [2; 16], "ESP");
        assert_eq!(primary.len(), 512 + 128 * 128);
        assert_eq!(backup.len(), 128 * 128 + 512);
        let check = |h: &[u8], mine: u64, entries_at: u64, entries: &[u8]| {
            assert_eq!(&h[0..8], b"EFI PART");
            let mut copy = h[..92].to_vec();
            copy[16..20].fill(0);
            assert_eq!(crc32(&copy), u32::from_le_bytes(h[16..20].try_into().unwrap()));
            assert_eq!(u64::from_le_bytes(h[24..32].try_into().unwrap()), mine);
            assert_eq!(u64::from_le_bytes(h[72..80].try_into().unwrap()), entries_at);
            assert_eq!(crc32(entries), u32::from_le_bytes(h[88..92].try_into().unwrap()));
        };
        check(&primary[..512], 1, 2, &primary[512..]);
        check(&backup[128 * 128..], total - 1, total - 33, &backup[..128 * 128]);
        assert_eq!(&primary[512..528], &ESP_TYPE);
        assert_eq!(
            u64::from_le_bytes(primary[512 + 40..512 + 48].try_into().unwrap()),
            PART_START + PART_SECTORS - 1
        );
        assert_eq!(&primary[512 + 56..512 + 62], [b'E', 0, b'S', 0, b'P', 0]);
    }

    #[test]
    fn esp_disk_with_mtools() {
        // When mtools is installed: the file lands where UEFI looks for it, and sfdisk (if present)
        // reads the table.
        if Command::new("mcopy").arg("--version").output().is_err() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("rivet-disk-{}", std::process::id()));
        let image = dir.join("disk.img");
        let files = [("EFI/BOOT/BOOTAA64.EFI".to_owned(), Content::Bytes(b"MZ app".to_vec()))];
        esp_disk(&image, "t", &files).unwrap();
        let at = format!("{}@@{}", image.display(), PART_START * SECTOR);
        let out = debian::run(mtools("mtype", &at).arg("::/EFI/BOOT/BOOTAA64.EFI")).unwrap();
        assert_eq!(out, "MZ app");
        if let Ok(out) = Command::new("sfdisk").arg("--dump").arg(&image).output() {
            if out.status.success() {
                let text = String::from_utf8_lossy(&out.stdout);
                assert!(text.contains("label: gpt"), "{text}");
                assert!(text.contains("C12A7328-F81F-11D2-BA4B-00A0C93EC93B"), "{text}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
