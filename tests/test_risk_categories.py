"""Category judges on hand-built parts: program (+ subcommand/flags) -> category and base."""

from __future__ import annotations

import pytest
from risk_factory import part, sql

from expacti_cli.analysis.model import SimpleCommand, SqlKind
from expacti_cli.risk import CATEGORIES, CATEGORY_NAMES
from expacti_cli.risk.categories import BY_NAME, PROGRAM_INDEX, classify

CASES: list[tuple[SimpleCommand, str, int]] = [
    # read-only
    (part("ls", "-la"), "read_only", 2),
    (part("cat", "README.md"), "read_only", 2),
    (part("jq", ".x", "f.json"), "read_only", 2),
    (part("sed", "-i", "s/a/b/", "f.txt"), "read_only", 20),
    (part("sed", "s/a/b/", "f.txt"), "read_only", 2),
    (part("awk", '{system("rm " $1)}', "list"), "read_only", 25),
    (part("history", "-c"), "read_only", 45),
    (part("find", ".", "-name", "*.py"), "read_only", 3),
    # build/test
    (part("pytest", "-x"), "build", 10),
    (part("make"), "build", 12),
    (part("make", "deploy"), "build", 40),
    (part("ruff", "check", "."), "build", 8),
    (part("bash", "script.sh"), "build", 25),
    (part("python", "manage.py", "runserver"), "build", 25),
    (part("bash", "-c", "ls"), "build", 10),
    (part("python3.12", "-V"), "build", 2),
    # vcs
    (part("git", "status"), "vcs", 5),
    (part("git", "log", "--oneline"), "vcs", 5),
    (part("git", "commit", "-m", "x"), "vcs", 12),
    (part("git", "push", "origin", "feature"), "vcs", 25),
    (part("git", "push", "origin", ":old"), "vcs", 45),
    (part("git", "reset", "--hard", "HEAD~1"), "vcs", 45),
    (part("git", "clean", "-fdx"), "vcs", 45),
    (part("git", "clean", "-n"), "vcs", 5),
    (part("git", "branch", "-D", "x"), "vcs", 35),
    (part("git", "filter-branch"), "vcs", 60),
    (part("gh", "pr", "list"), "vcs", 5),
    (part("gh", "pr", "merge", "12"), "vcs", 40),
    (part("gh", "repo", "delete", "me/x"), "vcs", 90),
    # packages
    (part("npm", "test"), "build", 10),
    (part("npm", "run", "build"), "build", 12),
    (part("npm", "run", "deploy:prod"), "build", 40),
    (part("npm", "install"), "packages", 20),
    (part("npm", "install", "-g", "x"), "packages", 30),
    (part("npm", "publish"), "packages", 60),
    (part("npx", "cowsay"), "packages", 30),
    (part("npx", "jest"), "build", 10),
    (part("pip", "install", "requests"), "packages", 20),
    (part("cargo", "test"), "build", 10),
    (part("cargo", "publish"), "packages", 60),
    (part("apt-get", "install", "-y", "curl"), "packages", 35),
    (part("apt", "purge", "nginx"), "packages", 45),
    (part("pacman", "-Rns", "x"), "packages", 45),
    (part("brew", "list"), "packages", 3),
    # file delete / write
    (part("rm", "f.txt"), "file_delete", 30),
    (part("rmdir", "empty"), "file_delete", 12),
    (part("shred", "-u", "f"), "file_delete", 55),
    (part("find", ".", "-delete", find_actions=("-delete",)), "file_delete", 40),
    (part("cp", "a", "b"), "file_write", 10),
    (part("mv", "a", "b"), "file_write", 20),
    (part("mkdir", "-p", "x"), "file_write", 3),
    (part("rsync", "-a", "--delete", "src/", "dst/"), "file_write", 45),
    (part("truncate", "-s", "0", "f"), "file_write", 35),
    # permissions
    (part("chmod", "+x", "run.sh"), "permissions", 20),
    (part("chmod", "777", "f"), "permissions", 40),
    (part("chmod", "o+w", "f"), "permissions", 40),
    (part("chmod", "u+s", "f"), "permissions", 60),
    (part("chmod", "4755", "f"), "permissions", 60),
    (part("chown", "me", "f"), "permissions", 25),
    (part("userdel", "bob"), "permissions", 60),
    (part("visudo"), "permissions", 75),
    # processes
    (part("ps", "aux"), "processes", 3),
    (part("kill", "-9", "123"), "processes", 25),
    (part("pkill", "node"), "processes", 35),
    (part("systemctl", "status", "nginx"), "processes", 3),
    (part("systemctl", "restart", "nginx"), "processes", 35),
    (part("systemctl", "stop", "postgres"), "processes", 45),
    (part("crontab", "-l"), "processes", 3),
    (part("crontab", "-r"), "processes", 70),
    # network
    (part("curl", "https://x.example"), "network", 15),
    (part("curl", "-X", "DELETE", "https://x.example/u/1"), "network", 40),
    (part("curl", "-d", "a=1", "https://x.example"), "network", 30),
    (part("wget", "https://x.example/f.tgz"), "network", 20),
    (part("ssh", "host"), "network", 30),
    (part("ssh", "host", "ls"), "network", 15),
    (part("scp", "f", "host:/tmp/"), "network", 30),
    (part("nc", "-l", "4444"), "network", 45),
    (part("nc", "-e", "/bin/sh", "h", "1"), "network", 85),
    (part("dig", "example.com"), "network", 3),
    # containers
    (part("docker", "ps"), "containers", 5),
    (part("docker", "build", "."), "containers", 20),
    (part("docker", "run", "img"), "containers", 25),
    (part("docker", "system", "prune"), "containers", 50),
    (part("docker", "volume", "rm", "data"), "containers", 60),
    (part("docker", "compose", "down", "-v"), "containers", 60),
    (part("kubectl", "get", "pods"), "containers", 5),
    (part("kubectl", "apply", "-f", "x.yaml"), "containers", 55),
    (part("kubectl", "delete", "pod", "api-1"), "containers", 65),
    (part("kubectl", "delete", "deployment/api"), "containers", 98),
    (part("kubectl", "delete", "-f", "x.yaml"), "containers", 90),
    (part("kubectl", "--context", "prod", "delete", "ns", "x"), "containers", 98),
    (part("kubectl", "scale", "deploy/api", "--replicas=0"), "containers", 98),
    (part("kubectl", "drain", "node-1"), "containers", 70),
    (part("helm", "uninstall", "api"), "containers", 85),
    # cloud
    (part("aws", "s3", "ls"), "cloud", 10),
    (part("aws", "ec2", "describe-instances"), "cloud", 10),
    (part("aws", "s3", "rm", "s3://b/k"), "cloud", 75),
    (part("aws", "ec2", "terminate-instances", "--instance-ids", "i-1"), "cloud", 75),
    (part("aws", "s3", "cp", "f", "s3://b/"), "cloud", 30),
    (part("terraform", "plan"), "cloud", 10),
    (part("terraform", "apply"), "cloud", 65),
    (part("terraform", "destroy"), "cloud", 90),
    (part("terraform", "state", "rm", "x"), "cloud", 45),
    (part("gcloud", "compute", "instances", "delete", "vm"), "cloud", 75),
    (part("vercel", "--prod"), "cloud", 60),
    (part("vercel"), "cloud", 35),
    (part("ansible-playbook", "site.yml", "--check"), "cloud", 10),
    (part("heroku", "pg:reset"), "cloud", 90),
    # database
    (part("psql", "-c", "x", sql=sql(SqlKind.READ, "SELECT")), "database", 12),
    (part("psql", "-c", "x", sql=sql(SqlKind.SESSION, "BEGIN")), "database", 8),
    (part("psql", "-c", "x", sql=sql(SqlKind.WRITE_WHERE, "UPDATE")), "database", 50),
    (part("psql", "-c", "x", sql=sql(SqlKind.WRITE_WHERE, "INSERT")), "database", 45),
    (part("psql", "-c", "x", sql=sql(SqlKind.WRITE_NO_WHERE, "DELETE")), "database", 50),
    (part("psql", "-c", "x", sql=sql(SqlKind.DDL, "ALTER TABLE")), "database", 45),
    (part("psql", "-c", "x", sql=sql(SqlKind.DDL, "CREATE INDEX", True)), "database", 41),
    (part("psql", "-c", "x", sql=sql(SqlKind.DESTRUCTIVE, "DROP TABLE")), "database", 95),
    (part("psql", "-c", "x", sql=sql(SqlKind.UNKNOWN, "FROB")), "database", 45),
    (part("psql", "prod"), "database", 35),
    (part("psql", "-f", "migrate.sql"), "database", 45),
    (part("pg_dump", "app"), "database", 20),
    (part("pg_restore", "--clean", "-d", "app", "dump"), "database", 95),
    (part("dropdb", "app"), "database", 95),
    (part("alembic", "upgrade", "head"), "database", 50),
    (part("alembic", "downgrade", "-1"), "database", 65),
    (part("prisma", "migrate", "reset"), "database", 95),
    (part("rails", "db:drop"), "database", 95),
    (part("rails", "server"), "build", 15),
    # system
    (part("lsblk"), "system", 3),
    (part("dd", "if=x.img", "of=/dev/sda"), "system", 90),
    (part("dd", "if=/dev/zero", "of=file", "bs=1M"), "system", 50),
    (part("mkfs.ext4", "/dev/sdb1"), "system", 90),
    (part("fdisk", "-l"), "system", 3),
    (part("fdisk", "/dev/sda"), "system", 70),
    (part("reboot"), "system", 80),
    (part("iptables", "-L"), "system", 3),
    (part("iptables", "-F"), "system", 60),
    (part("sysctl", "-w", "vm.swappiness=1"), "system", 45),
    # privilege / secrets
    (part("sudo", "-i"), "privilege", 70),
    (part("sudo", "-l"), "privilege", 5),
    (part("su", "-"), "privilege", 70),
    (part("ssh-keygen", "-t", "ed25519"), "privilege", 20),
    (part("gpg", "--export-secret-keys"), "privilege", 70),
    (part("vault", "kv", "get", "secret/x"), "privilege", 60),
    (part("security", "find-generic-password", "-s", "x"), "privilege", 60),
    (part("sops", "-d", "secrets.yaml"), "privilege", 60),
    # unknown
    (part("./deploy.sh"), "unknown", 0),
    (part("frobnicate", "--all"), "unknown", 0),
]


@pytest.mark.parametrize(
    ("command", "category", "base"), CASES, ids=lambda v: getattr(v, "text", None)
)
def test_category_and_base(command: SimpleCommand, category: str, base: int) -> None:
    verdict = classify(command, {})
    assert (verdict.category, verdict.base) == (category, base), verdict


def test_fourteen_documented_categories() -> None:
    assert len(CATEGORIES) == 14
    assert CATEGORY_NAMES == (*(c.name for c in CATEGORIES), "unknown")
    for category in CATEGORIES:
        assert category.description and category.label and category.examples
        low, high = category.points_range
        assert 0 <= low <= high <= 100


def test_every_category_has_tested_members() -> None:
    tested = {category for _, category, _ in CASES}
    assert tested >= {c.name for c in CATEGORIES}


def test_bases_come_from_the_documented_tables() -> None:
    """What --explain lists is what the judges return (texts may carry details)."""
    for command, _, _ in CASES:
        verdict = classify(command, {})
        if verdict.category == "unknown":
            continue
        documented = {points for _, points in BY_NAME[verdict.category].examples}
        assert verdict.base in documented | {2}, (command.text, verdict)


def test_programs_dispatch_to_a_category_that_claims_them() -> None:
    for program, category in PROGRAM_INDEX.items():
        assert program in category.programs


def test_user_override_moves_a_program() -> None:
    verdict = classify(part("deploy.sh"), {"deploy.sh": "cloud"})
    assert verdict.category == "cloud"
    assert verdict.base > 0
    # overriding a known program to read-only makes it judged as such
    assert classify(part("terraform", "apply"), {"terraform": "read_only"}).base == 2
