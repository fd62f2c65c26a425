"""No secrets in the repository (issue 7): every file git tracks (or would track: new files not
ignored) is scanned for private keys, AWS keys, ReviewDesk API keys and personal tokens of real
length, Fernet keys, and passwords written into settings or deployment files. A hit fails with the
file, line and rule; obviously fake fixture values pass (see looks_fake and ALLOWED)."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# ReviewDesk keys are the prefix plus secrets.token_urlsafe(32): 43 characters.
RULES = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"(?i)aws_?secret_?access_?key\W{0,6}[A-Za-z0-9/+=]{40}\b"),
    "ReviewDesk API key or personal token": re.compile(r"\brd[kp]_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"),
    "Fernet key": re.compile(r"(?<![A-Za-z0-9_+/-])[A-Za-z0-9_-]{43}=(?![A-Za-z0-9_+/=-])"),
}
# Passwords and secrets written as literals: checked in the code and deployment files, not in
# tests and benchmarks, whose throw-away passwords are fixtures.
LITERAL_SECRET = re.compile(
    r"""(?ix)\b[a-z_]*(?:password|passwd|secret|secret_key|api_key|token)\b\s*[:=]\s*["']([^"'\s]{4,})["']"""
)
CONFIG_PLACES = ("reviewdesk/", "reviews/", "tickets/", "contacts/", "scripts/", ".ci/")
CONFIG_FILES = ("docker-compose.yml", "Dockerfile", "Makefile", ".env.example")
# (path, rule): deliberate, documented values that are not secrets.
ALLOWED = {
    ("tickets/demo_data.py", "literal secret"),  # the demo login printed by `make run` and README
}
FAKE_MARKERS = ("example", "fake", "dummy", "placeholder", "change-me", "changeme", "not-secret", "xxxx")


def tracked_files():
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [name for name in out.decode().split("\0") if name]


def text_of(name):
    path = ROOT / name
    if not path.is_file() or path.stat().st_size > 5_000_000:
        return None
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None  # binary (compiled translations, images)
    return data.decode("utf-8", errors="replace")


def looks_fake(value):
    lowered = value.lower()
    return any(marker in lowered for marker in FAKE_MARKERS) or len(set(value)) <= 3


def is_config(name):
    return name.startswith(CONFIG_PLACES) or name in CONFIG_FILES or name.endswith("settings.py")


def findings(name, text):
    for line_number, line in enumerate(text.splitlines(), 1):
        for rule, pattern in RULES.items():
            for match in pattern.finditer(line):
                if not looks_fake(match.group(0)) and (name, rule) not in ALLOWED:
                    yield name, line_number, rule
        if is_config(name) and "/tests/" not in name:
            for match in LITERAL_SECRET.finditer(line):
                if not looks_fake(match.group(1)) and (name, "literal secret") not in ALLOWED:
                    yield name, line_number, "literal secret"


def test_no_tracked_file_holds_a_secret():
    files = tracked_files()
    assert len(files) > 50, "git ls-files found too few files: is this the repository?"
    hits = [hit for name in files if (text := text_of(name)) is not None for hit in findings(name, text)]
    assert hits == [], "\n".join(f"{name}:{line}: {rule}" for name, line, rule in hits)


def test_env_example_leaves_every_secret_empty():
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match and re.search(r"SECRET|PASSWORD|TOKEN|(^|_)KEY$", match[1]):
            assert match[2].strip() == "", f".env.example sets {match[1]}"


# The scanner itself: samples are assembled at run time so this file holds none of them.
SAMPLES = {
    "private key": "-----BEGIN " + "OPENSSH PRIVATE KEY-----",
    "AWS access key id": "AKIA" + "Q3EGRIZ7TBW4YJ2L",
    "AWS secret access key": "aws_secret_access_key = " + "wJalr9UtnFEMIK7MDENGbPxRfiCYq" + "A1b2C3d4E5f",
    "ReviewDesk API key or personal token": "rdk_" + "Zq8Jm0T4vH2pLwXy5NbC7dRf1GkSa9QeUo3iYt6Vh0M",
    "Fernet key": "FIELD_ENCRYPTION_KEY=" + "k7Jw2nQp9Xz4Lm8Rt1Vb6Yc3Hd5Gf0Sa2Ue7Io4Pq9W" + "=",
}


@pytest.mark.parametrize("rule", sorted(SAMPLES))
def test_the_scanner_finds_each_kind_of_secret(rule):
    assert [hit[2] for hit in findings("reviewdesk/sample.py", SAMPLES[rule])] == [rule]


def test_the_scanner_finds_a_password_written_into_settings_but_not_a_fake_one():
    line = "EMAIL_HOST_PASSWORD = " + '"' + "Tr0ub4dor&3x" + '"'
    assert [hit[2] for hit in findings("reviewdesk/settings.py", line)] == ["literal secret"]
    assert list(findings("reviewdesk/settings.py", 'EMAIL_HOST_PASSWORD = "change-me"')) == []
    assert list(findings("tests/test_sample.py", line)) == []
    assert list(findings("reviews/sample.py", "key = AKIA" + "IOSFODNN7EXAMPLE")) == []
