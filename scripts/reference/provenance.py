"""Provenance header shared by every fixture generator: which script, which pinned versions, when."""
import datetime
import importlib.metadata
import json
import os
import platform

PACKAGES = ["numpy", "tokenizers", "transformers", "safetensors", "torch", "rouge", "rouge-score", "seqeval"]


def provenance(generator: str, **extra) -> dict:
    """A dict to store under "provenance" in a JSON fixture (or as the first line of a JSON Lines fixture)."""
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            pass
    return {
        "generator": f"scripts/reference/{generator}",
        "python": platform.python_version(),
        "versions": versions,
        "date": datetime.date.today().isoformat(),
        **extra,
    }


def fixture_path(*parts: str) -> str:
    """Tests/Fixtures/<parts...>, with its directory created."""
    root = os.environ.get("ECOM_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    path = os.path.join(root, "Tests", "Fixtures", *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def shared_data(*parts: str) -> str:
    """A path inside the shared evaluation data (../shared/data or $ECOM_SHARED_DATA)."""
    root = os.environ.get("ECOM_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    base = os.environ.get("ECOM_SHARED_DATA") or os.path.join(root, "..", "shared", "data")
    return os.path.join(base, *parts)


def write_json(path: str, obj) -> None:
    """Writes JSON atomically (temp file + rename), UTF-8, without ASCII escaping."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, path)
