"""Containers and orchestration: docker/podman, kubectl, helm and friends."""

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
    verb,
)

NAME = "containers"

DOCKERS = frozenset({"docker", "podman", "nerdctl", "docker-compose", "podman-compose", "crictl"})
KUBES = frozenset({"kubectl", "oc", "k", "microk8s.kubectl"})
PROGRAMS = (
    DOCKERS
    | KUBES
    | frozenset({"helm", "k9s", "minikube", "kind", "k3d", "kubectx", "kubens", "skaffold"})
    | frozenset({"tilt", "argocd", "istioctl", "kustomize", "stern", "kubeseal", "flux"})
)

T = Table(
    NAME,
    {
        "read": entry(5, "reads container or cluster state", "read-only container command"),
        "context": entry(15, "switches the cluster or context", "context switch", MUTATING),
        "build": entry(20, "builds or pulls images", "image build", MUTATING),
        "exec": entry(20, "runs a command in a container (scored separately)", "container exec"),
        "run": entry(25, "starts a container", "container start", MUTATING),
        "stop": entry(30, "stops or removes containers", "container stop", DESTRUCTIVE),
        "push": entry(40, "pushes an image to a registry", "image push", MUTATING),
        "label": entry(
            30, "labels or annotates cluster objects", "cluster metadata change", MUTATING
        ),
        "create": entry(45, "creates cluster objects", "cluster change", MUTATING),
        "restart": entry(45, "restarts a rollout", "rollout restart", MUTATING),
        "scale": entry(50, "scales a workload", "workload scaling", MUTATING),
        "prune": entry(50, "prunes unused containers, images or networks", "prune", DESTRUCTIVE),
        "apply": entry(55, "applies changes to the cluster", "cluster change", MUTATING),
        "volume-delete": entry(
            60, "deletes volumes and their data", "volume deletion", DESTRUCTIVE
        ),
        "delete-pod": entry(
            65, "deletes pods (controllers recreate them)", "pod deletion", DESTRUCTIVE
        ),
        "drain": entry(70, "drains or cordons a node", "node drain", DESTRUCTIVE),
        "release-delete": entry(85, "uninstalls a release", "release uninstall", DESTRUCTIVE),
        "delete": entry(90, "deletes cluster objects", "cluster object deletion", DESTRUCTIVE),
        "delete-service": entry(
            98, "deletes a running service", "production service termination", DESTRUCTIVE
        ),
    },
)

_KUBE_VERBS = frozenset(
    """
    get describe logs top explain version api-resources api-versions cluster-info config auth
    diff wait events apply create delete edit patch replace scale autoscale rollout set label
    annotate expose run exec cp port-forward proxy attach drain cordon uncordon taint certificate
    debug kustomize plugin completion
    """.split()
)
_KUBE_READ = frozenset(
    {"get", "describe", "logs", "top", "explain", "version", "api-resources", "api-versions"}
    | {"cluster-info", "auth", "diff", "wait", "events", "kustomize", "completion", "plugin"}
)
# Deleting these stops something that serves traffic or holds data.
_SERVICE_KINDS = frozenset(
    """
    deployment deployments deploy statefulset statefulsets sts daemonset daemonsets ds service
    services svc ingress ingresses ing namespace namespaces ns persistentvolumeclaim pvc
    persistentvolume pv replicaset rs cronjob cronjobs cj node nodes no secret secrets
    configmap configmaps cm crd customresourcedefinition
    """.split()
)
_POD_KINDS = frozenset({"pod", "pods", "po", "job", "jobs"})


def _kube_kind(word: str) -> str:
    return word.split("/", 1)[0].split(".", 1)[0].lower()


def _kubectl(part: SimpleCommand) -> Verdict:
    sub = verb(part, _KUBE_VERBS)
    rest = args_after(part, sub)
    if sub in _KUBE_READ or sub == "":
        return T("read")
    if sub == "config":
        reads = ("view", "get-contexts", "current-context", "get-clusters")
        return T("read") if rest[:1] and rest[0] in reads else T("context")
    if sub == "delete":
        # `delete pod NAME` names the kind once; `delete deploy/a svc/b` names it per word.
        kinds = {_kube_kind(w) for w in rest if "/" in w} or {_kube_kind(w) for w in rest[:1]}
        if kinds & _SERVICE_KINDS or "all" in kinds:
            return T("delete-service", rest)
        if kinds and kinds <= _POD_KINDS:
            return T("delete-pod", rest)
        return T("delete", rest)
    if sub in ("apply", "patch", "replace", "edit", "set", "autoscale"):
        return T("apply", rest)
    if sub == "scale":
        zero = any(w in ("--replicas=0",) for w in part.argv) or (
            "--replicas" in part.argv
            and part.argv[part.argv.index("--replicas") + 1 :][:1] == ("0",)
        )
        return (
            T("delete-service", rest, text="scales a workload to zero")
            if zero
            else T("scale", rest)
        )
    if sub == "rollout":
        action = rest[0] if rest else ""
        if action in ("status", "history"):
            return T("read")
        return (
            T("apply", rest, text="rolls back a deployment")
            if action == "undo"
            else T("restart", rest)
        )
    if sub in ("drain", "cordon", "taint"):
        return T("drain", rest)
    if sub in ("label", "annotate", "uncordon"):
        return T("label", rest)
    if sub in ("exec", "attach", "debug", "cp", "port-forward", "proxy"):
        return T("exec")
    if sub in ("create", "expose", "run", "certificate"):
        return T("create", rest)
    return T("create", rest)


def _docker(part: SimpleCommand) -> Verdict:
    positionals = part.positionals
    sub = part.subcommand or (positionals[0] if positionals else "")
    rest = args_after(part, sub)
    if sub in ("compose", "container", "image", "volume", "network", "system", "builder", "buildx"):
        group, sub = sub, (rest[0] if rest else "")
        rest = rest[1:]
    else:
        group = "compose" if part.program.endswith("compose") else ""
    if sub in ("prune",):
        return T("volume-delete") if group == "volume" else T("prune")
    if sub in ("rm", "remove", "down", "kill", "stop", "rmi", "pause", "restart"):
        if group == "volume" or (
            sub == "down" and (part.short_flags & {"v"} or "volumes" in part.long_flags)
        ):
            return T("volume-delete", rest)
        return T("stop", rest)
    if sub in ("run", "up", "start", "create", "restart", "deploy", "service", "stack"):
        return T("run", rest)
    if sub in ("exec", "attach", "cp"):
        return T("exec")
    if sub in ("build", "pull", "bake", "tag", "load", "import", "commit", "save"):
        return T("build")
    if sub == "push":
        return T("push")
    if sub in ("login", "logout", "context", "use"):
        return T("context")
    return T("read")


def _helm(part: SimpleCommand) -> Verdict:
    sub = part.subcommand or (part.positionals[0] if part.positionals else "")
    if sub in ("uninstall", "delete", "del", "un"):
        return T("release-delete", args_after(part, sub))
    if sub in ("install", "upgrade", "rollback"):
        return T("apply", args_after(part, sub))
    if sub in ("repo", "dependency", "dep", "plugin", "pull", "package"):
        return T("build")
    return T("read")


def judge(part: SimpleCommand) -> Verdict:
    program = part.program
    if program in KUBES:
        return _kubectl(part)
    if program in DOCKERS:
        return _docker(part)
    if program == "helm":
        return _helm(part)
    sub = part.subcommand or (part.positionals[0] if part.positionals else "")
    if program in ("kubectx", "kubens"):
        return T("context") if part.positionals else T("read")
    if program in ("minikube", "kind", "k3d") and sub == "delete":
        return T("delete", args_after(part, sub), text="deletes a local cluster")
    if sub in ("delete", "uninstall"):
        return T("delete", args_after(part, sub))
    if sub in ("apply", "sync", "deploy", "up", "run", "install", "rollback"):
        return T("apply")
    if program in ("k9s", "stern", "kustomize"):
        return T("read")
    return T("run") if sub in ("start", "dev", "create") else T("read")


CATEGORY = Category(
    NAME,
    "containers",
    "docker, kubectl, helm: starting, changing and deleting containers and cluster objects",
    PROGRAMS,
    judge,
    T.examples,
)
