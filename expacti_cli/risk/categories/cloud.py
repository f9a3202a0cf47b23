"""Cloud and infrastructure as code: aws, gcloud, az, terraform, deploy CLIs, ansible."""

from __future__ import annotations

from expacti_cli.analysis.model import SimpleCommand
from expacti_cli.risk.categories.base import (
    DESTRUCTIVE,
    MUTATING,
    Category,
    Table,
    Verdict,
    args_after,
    entry,
    has_flag,
)

NAME = "cloud"

IAC = frozenset({"terraform", "tofu", "terragrunt", "pulumi", "cdk", "cdktf", "sam", "packer"})
CLIS = frozenset({"aws", "gcloud", "gsutil", "az", "doctl", "eksctl", "linode-cli", "hcloud"})
DEPLOYERS = frozenset(
    {"fly", "flyctl", "heroku", "vercel", "netlify", "firebase", "wrangler", "serverless", "sls"}
    | {"railway", "render", "amplify", "eb", "copilot", "vagrant", "ansible", "ansible-playbook"}
)
PROGRAMS = IAC | CLIS | DEPLOYERS

T = Table(
    NAME,
    {
        "read": entry(10, "reads cloud or infrastructure state", "read-only cloud command"),
        "plan": entry(
            10, "plans infrastructure changes without applying them", "infrastructure plan"
        ),
        "auth": entry(
            20, "changes cloud credentials or configuration", "cloud config change", MUTATING
        ),
        "copy": entry(30, "copies data to or from cloud storage", "cloud storage copy", MUTATING),
        "preview-deploy": entry(35, "deploys a preview", "preview deploy", MUTATING),
        "state": entry(45, "changes infrastructure state records", "state change", MUTATING),
        "create": entry(45, "creates or updates cloud resources", "cloud change", MUTATING),
        "deploy": entry(60, "deploys to a live environment", "deploy", MUTATING),
        "apply": entry(65, "applies infrastructure changes", "infrastructure change", MUTATING),
        "delete": entry(75, "deletes cloud resources", "cloud resource deletion", DESTRUCTIVE),
        "destroy": entry(
            90, "destroys the managed infrastructure", "infrastructure destruction", DESTRUCTIVE
        ),
    },
)

_READ_PREFIXES = ("describe", "list", "get", "show", "ls", "cat", "head", "wait", "lookup")
_DELETE_PREFIXES = ("delete", "terminate", "remove", "rm", "rb", "destroy", "purge", "deregister")
_CREATE_PREFIXES = (
    "create",
    "put",
    "update",
    "modify",
    "run",
    "start",
    "stop",
    "reboot",
    "attach",
    "detach",
    "set",
    "add",
    "tag",
    "untag",
    "enable",
    "disable",
    "invoke",
    "publish",
    "send",
    "import",
    "restore",
    "associate",
    "disassociate",
    "authorize",
    "revoke",
    "scale",
    "mv",
    "sync",
)


def _action_verdict(action: str) -> Verdict | None:
    """Cloud CLIs name their operations consistently: describe-*, delete-*, create-*..."""
    if action.startswith(_DELETE_PREFIXES):
        return T("delete", text=f'deletes cloud resources ("{action}")')
    if action in ("cp", "sync", "mv"):
        return T("copy")
    if action.startswith(_READ_PREFIXES) or action in ("help", "version", "info"):
        return T("read")
    if action.startswith("deploy"):
        return T("deploy")
    if action.startswith(_CREATE_PREFIXES):
        return T("create", text=f'changes cloud resources ("{action}")')
    if action in ("configure", "login", "auth", "config", "init", "sso"):
        return T("auth")
    return None


def _cli(part: SimpleCommand) -> Verdict:
    positionals = part.positionals
    if part.program == "gsutil":
        action = positionals[0] if positionals else ""
        action = {"rm": "delete", "rb": "delete"}.get(action, action)
        return _action_verdict(action) or T("read")
    if not positionals:
        return T("read")
    # `aws s3 rm`, `aws ec2 terminate-instances`, `gcloud compute instances delete NAME`:
    # the first word that names an operation decides.
    for word in positionals[:4]:
        if (found := _action_verdict(word)) is not None:
            return found
    operation = " ".join(positionals[:2])
    return T("create", text=f'runs cloud operation "{operation}"')


def _iac(part: SimpleCommand) -> Verdict:
    sub = part.subcommand or (part.positionals[0] if part.positionals else "")
    rest = args_after(part, sub)
    if part.program in ("terragrunt",) and sub == "run-all":
        sub, rest = (rest[0] if rest else ""), rest[1:]
    if sub in ("destroy",) or (sub == "apply" and has_flag(part, long=("destroy",))):
        return T("destroy")
    if sub in ("apply", "up", "deploy", "build") and part.program != "packer":
        return T("apply")
    if sub == "state" and rest[:1] and rest[0] in ("rm", "mv", "push", "replace-provider"):
        return T("state", text=f"terraform state {rest[0]} edits what terraform manages")
    if sub in ("import", "taint", "untaint", "force-unlock", "refresh", "cancel"):
        return T("state")
    if sub == "workspace" and rest[:1] == ("delete",):
        return T("delete", text="deletes a workspace")
    if sub in ("init", "login", "logout", "workspace", "stack", "config"):
        return T("auth") if sub in ("login", "config") else T("plan")
    return T("plan")


def _deployer(part: SimpleCommand) -> Verdict:
    program = part.program
    sub = part.subcommand or (part.positionals[0] if part.positionals else "")
    if program in ("ansible", "ansible-playbook"):
        if has_flag(part, "C", ("check", "list-hosts", "syntax-check", "list-tasks")):
            return T("plan")
        return T("deploy", text="runs a playbook against remote hosts")
    if sub.startswith(("destroy", "apps:destroy", "delete", "remove", "rm", "pg:reset")):
        return T("destroy" if "destroy" in sub or "reset" in sub else "delete")
    if program in ("vercel", "netlify") and sub in ("", "deploy"):
        live = has_flag(part, long=("prod", "production"))
        return T("deploy") if live else T("preview-deploy")
    if sub.startswith(("deploy", "release", "publish", "up", "ps:scale", "scale", "run")):
        return T("deploy")
    if sub.startswith(("config:set", "config:unset", "secrets", "env")):
        return T("create", text="changes app configuration or secrets")
    if sub in ("login", "auth", "logout", "link", "init"):
        return T("auth")
    return T("read")


def judge(part: SimpleCommand) -> Verdict:
    if part.program in IAC:
        return _iac(part)
    if part.program in CLIS:
        return _cli(part)
    return _deployer(part)


CATEGORY = Category(
    NAME,
    "cloud/IaC",
    "cloud CLIs, terraform and deploy tools: changes to live infrastructure",
    PROGRAMS,
    judge,
    T.examples,
)
