"""System and disk: block devices, filesystems, kernel, firewall, power."""

from __future__ import annotations

from expacti_cli.analysis.model import SimpleCommand
from expacti_cli.risk.categories.base import DESTRUCTIVE, MUTATING, Category, Table, Verdict, entry

NAME = "system"

MKFS = frozenset(
    {"mkfs", "mkfs.ext4", "mkfs.ext3", "mkfs.ext2", "mkfs.xfs", "mkfs.btrfs", "mkfs.vfat"}
    | {"mkfs.fat", "mkfs.ntfs", "mke2fs", "mkswap", "wipefs", "blkdiscard", "newfs"}
)
POWER = frozenset({"reboot", "shutdown", "halt", "poweroff", "init", "telinit", "kexec"})
PARTITIONERS = frozenset({"fdisk", "sfdisk", "gdisk", "sgdisk", "parted", "cfdisk", "diskutil"})
LVM = frozenset(
    {"lvremove", "vgremove", "pvremove", "lvreduce", "zpool", "zfs", "mdadm", "cryptsetup"}
)
PROGRAMS = (
    MKFS
    | POWER
    | PARTITIONERS
    | LVM
    | frozenset({"dd", "mount", "umount", "swapon", "swapoff", "sysctl", "modprobe", "insmod"})
    | frozenset({"rmmod", "iptables", "ip6tables", "nft", "ufw", "firewall-cmd", "pfctl", "ip"})
    | frozenset({"ifconfig", "route", "hostnamectl", "timedatectl", "update-grub", "grub-install"})
    | frozenset({"efibootmgr", "lsblk", "blkid", "findmnt", "dmesg", "lscpu", "lspci"})
    | frozenset({"lsusb", "sync", "fsck", "e2fsck", "tune2fs", "resize2fs", "nvram", "csrutil"})
    | frozenset({"update-alternatives", "ldconfig", "setenforce", "bcdedit", "format"})
)

T = Table(
    NAME,
    {
        "read": entry(3, "reads system or disk information", "system information"),
        "config": entry(
            45, "changes kernel, network or system settings", "system setting change", MUTATING
        ),
        "mount": entry(40, "mounts or unmounts filesystems", "mount change", MUTATING),
        "copy": entry(50, "low-level copy with dd", "raw disk copy", MUTATING),
        "firewall": entry(60, "changes firewall rules", "firewall change", MUTATING),
        "kernel": entry(
            60, "loads or unloads kernel modules or boot settings", "kernel change", MUTATING
        ),
        "partition": entry(70, "changes disk partitions", "partition change", DESTRUCTIVE),
        "power": entry(80, "reboots or powers off the machine", "reboot or shutdown", DESTRUCTIVE),
        "device-write": entry(
            90, "writes directly to a block device", "block device overwrite", DESTRUCTIVE
        ),
        "format": entry(90, "formats or wipes a filesystem", "disk format", DESTRUCTIVE),
    },
)

_READ_ONLY = frozenset({"lsblk", "blkid", "findmnt", "dmesg", "lscpu", "lspci", "lsusb", "sync"})


def _dd(part: SimpleCommand) -> Verdict:
    out = next((w[3:] for w in part.argv[1:] if w.startswith("of=")), "")
    if out.startswith("/dev/") and out not in ("/dev/null", "/dev/stdout", "/dev/stderr"):
        return T("device-write", (out,), text=f"dd writes to the block device {out}")
    return T("copy", (out,) if out else ())


def judge(part: SimpleCommand) -> Verdict:
    program, positionals = part.program, part.positionals
    if program in _READ_ONLY:
        return T("read")
    if program == "dd":
        return _dd(part)
    if program in MKFS or program == "format":
        return T("format", positionals)
    if program in POWER:
        if program == "init" and positionals[:1] not in (("0",), ("6",)):
            return T("config")
        return T("power")
    if program in PARTITIONERS:
        if (
            "l" in part.short_flags
            or "list" in part.long_flags
            or positionals[:1] in (("list",), ("info",))
        ):
            return T("read")
        if program == "diskutil" and not any(
            w.lower().startswith(("erase", "partition", "zero")) for w in positionals
        ):
            return T("mount")
        return T("partition", positionals)
    if program in LVM:
        if (
            positionals[:1] in (("list",), ("status",), ("get",), ("iostat",))
            or "detail" in part.long_flags
        ):
            return T("read")
        return T("format", text=f"{program} {' '.join(positionals[:1])} destroys volumes or pools")
    if program in ("mount", "umount", "swapon", "swapoff"):
        return T("mount") if positionals or program != "mount" else T("read")
    if program in ("iptables", "ip6tables", "nft", "ufw", "firewall-cmd", "pfctl"):
        listing = part.short_flags & {"L", "S"} or positionals[:1] in (("list",), ("status",))
        return T("read") if listing else T("firewall")
    if program in ("modprobe", "insmod", "rmmod", "update-grub", "grub-install", "efibootmgr"):
        return T("kernel")
    if program in ("sysctl",):
        return (
            T("config")
            if "w" in part.short_flags or any("=" in w for w in positionals)
            else T("read")
        )
    if program in ("ip", "ifconfig", "route"):
        changes = {"add", "del", "delete", "set", "down", "up", "flush", "change", "replace"}
        return T("config") if changes & set(positionals) else T("read")
    if program in ("fsck", "e2fsck", "tune2fs", "resize2fs"):
        return T("partition", positionals)
    if program in ("nvram", "csrutil", "setenforce", "bcdedit"):
        return T("kernel")
    return T("config")


CATEGORY = Category(
    NAME,
    "system/disk",
    "block devices, filesystems, kernel modules, firewall, network interfaces, power",
    PROGRAMS,
    judge,
    T.examples,
)
