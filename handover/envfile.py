"""Env files and secrets: read a pasted ``.env`` or ``.env.example`` as names and
comments, and tell whether a piece of text looks like a secret.

Pure functions, no Django, no logging. Values never leave this module: the parser
finds where each value ends, counts it and forgets it, and returns only names,
comments (as purposes) and line numbers. Nothing here ever returns or formats the
text it refused, so callers cannot echo it by accident.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

NAME_MAX_LENGTH = 128
PURPOSE_MAX_LENGTH = 300
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Environment names are free ("production", "staging", "preview-eu"…), kept short and plain.
ENVIRONMENT_MAX_LENGTH = 40
ENVIRONMENT_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*")
SUGGESTED_ENVIRONMENTS = ("production", "staging")

# ---------------------------------------------------------------------------
# Secret detection
# ---------------------------------------------------------------------------

# (pattern, what it looks like). Prefixes alone ("sk_live_") are not secrets: key
# material must follow. Publishable keys (pk_live_…) are public by design.
_KNOWN_SECRETS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"-----BEGIN[ A-Z0-9]*-----|-----BEGIN"), "a private key or certificate block (PEM)"),
    (re.compile(r"(?<![A-Za-z0-9])[sr]k_(?:live|test)_[A-Za-z0-9]+"), "a Stripe secret or restricted key"),
    (re.compile(r"(?<![A-Za-z0-9])[sr]k_[A-Za-z0-9]{10,}"), "a secret API key (sk_/rk_)"),
    (re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}"), "a secret API key (sk-)"),
    (re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"), "an AWS access key id"),
    (re.compile(r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{8,}"), "a Slack token"),
    (
        re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{12,}"),
        "a Slack webhook URL",
    ),
    (re.compile(r"(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{20,}"), "a GitHub token"),
    (re.compile(r"(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{20,}"), "a GitHub token"),
    (re.compile(r"(?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{10,}"), "a GitLab token"),
    (re.compile(r"(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{8,}"), "a SendGrid API key"),
    (re.compile(r"(?<![A-Za-z0-9])shp(?:at|ss|ca|pa)_[A-Fa-f0-9]{16,}"), "a Shopify access token"),
    (re.compile(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{30,}"), "a Google API key"),
    (re.compile(r"(?<![A-Za-z0-9])npm_[A-Za-z0-9]{30,}"), "an npm token"),
    (re.compile(r"(?<![A-Za-z0-9])key-[0-9a-f]{32}"), "a Mailgun API key"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "a JSON Web Token"),
    (
        re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@"),
        "a URL with a password in it",
    ),
    (
        # A password written out: "password=hunter2", "DB_PASS = 'x1y2'", "api_key: abcd1234"
        # (a colon only with a value that has digits, so "token: stored in Vercel" passes).
        re.compile(
            r"(?i)(?:pass(?:word)?|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)"
            r"\s*(?:=\s*[\"']?[^\s\"'<>]{4,}|:\s*[\"']?(?=[^\s\"'<>]*\d)[^\s\"'<>]{6,})"
        ),
        "a password or key written out",
    ),
    (
        re.compile(
            r"(?i)[?&](?:token|key|api_key|apikey|secret|password|sig|signature|access_token)=[^&\s#]{8,}"
        ),
        "a URL with a key or token in it",
    ),
]

_TOKEN_SPLIT = re.compile(r"[\s\"'`(),;<>\[\]{}|\\]+")
_RUN = re.compile(r"[A-Za-z0-9]+")
# A run of letters and digits read as words: "PostgreSQL14Instance" → Postgre, SQL, 14, Instance.
_PIECE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_HEX = re.compile(r"(?=.*[0-9])(?=.*[a-fA-F])(?:[0-9a-f]+|[0-9A-F]+)")
# SCREAMING_SNAKE, kebab-case and dotted names made of short pieces are identifiers.
_SEPARATED_NAME = re.compile(r"[A-Z0-9]{1,12}(?:[_.-][A-Z0-9]{1,12})+|[a-z0-9]{1,12}(?:[_.-][a-z0-9]{1,12})+")
# Publishable keys are meant to be public (they sit in every checkout page).
_PUBLISHABLE = re.compile(r"pk_(?:live|test)_[A-Za-z0-9]+")
_QUOTES = "\"'`(),;<>[]{}"
_SYMBOLS = frozenset("!#$%^&*()+=[]{}|;<>?~@")
RANDOM_MIN_LENGTH = 20
RANDOM_MIN_BITS_PER_CHAR = 3.5

# The letter pairs that make up 98.5 % of the pairs in English words and code
# identifiers (counted over Python sources and docs). In a generated key about half
# of the pairs are rare ones ("qz", "xj", "vk"); in words almost none are.
_COMMON_PAIRS = frozenset(
    (
        "ab ac ad af ag ai ak al am an ap ar as at au av aw ax ay ba bc be bi bj bl bo br bs bu by ca cc "
        "ce ch ci ck cl cm co cr cs ct cu cy da dd de di dj dl dn do dr ds dt du dy ea eb ec ed ee ef eg "
        "ei el em en eo ep eq er es et eu ev ew ex ey fa fe ff fi fl fm fo fr ft fu ga ge gg gh gi gl gm "
        "gn go gr gs gt gu ha he hi ho hr ht hu ia ib ic id ie if ig il im in io ip ir is it iv ix iz ja "
        "je jo js ka ke ki ks kw la lb ld le lf li ll lo lp ls lt lu ly ma mb md me mi ml mm mo mp ms mu "
        "na nc nd ne nf ng ni nk nl nn no np ns nt nu nv ny oa ob oc od of og oi ok ol om on oo op or os "
        "ot ou ov ow ox pa pd pe ph pi pl po pp pr ps pt pu py qu ra rc rd re rf rg ri rk rl rm rn ro rr "
        "rs rt ru rv ry sa sc se sg sh si sk sl sm so sp sq ss st su sw sy ta tc td te tf th ti tl tm to "
        "tp tr ts tt tu tw ty ua ub uc ud ue uf ug ui ul um un up ur us ut va ve vi wa we wh wi wn wo wr "
        "ws xc xe xi xp xt yg yi yl ym yn yo yp ys yt yw ze "
    ).split()
)


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text`` (0 for an empty string)."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def _surprise(token: str) -> tuple[float, float]:
    """How unlike words the token's letters are, and how often its character class
    switches (lower/upper/digit), each per letter-or-digit.

    Surprise counts each rare letter pair inside a word piece and each lone letter
    between other classes ("x9K"): words score near 0, generated keys 0.3 to 0.5.
    """
    total = surprises = switches = 0
    for run in _RUN.findall(token):
        pieces = _PIECE.findall(run)
        switches += len(pieces) - 1
        for piece in pieces:
            total += len(piece)
            if piece.isdigit():
                continue
            if len(piece) == 1:
                surprises += 1
                continue
            low = piece.lower()
            surprises += sum(a + b not in _COMMON_PAIRS for a, b in itertools.pairwise(low))
    return surprises / max(total, 1), switches / max(total, 1)


def looks_random(token: str) -> bool:
    """Whether one token without spaces reads as a generated key rather than words.

    At least 20 characters and 3.5 bits per character (Shannon), and its letters
    unlike words: "STRIPE_WEBHOOK_SIGNING_SECRET", "PostgreSQL14OnAWSRDSInstance",
    an ARN or "release-2024-11-03-hotfix" are identifiers; "q8ZtV2mLx0Pr7sWb4KdN" is
    not. Hex is judged on its own scale (at most 4 bits per character).
    """
    if len(token) < RANDOM_MIN_LENGTH:
        return False
    entropy = shannon_entropy(token)
    if _HEX.fullmatch(token):
        return entropy >= 3.0
    if entropy < RANDOM_MIN_BITS_PER_CHAR or _SEPARATED_NAME.fullmatch(token):
        return False
    surprise, switches = _surprise(token)
    if surprise >= 0.2 or (switches >= 0.3 and surprise >= 0.1) or (switches >= 0.35 and entropy >= 4.0):
        return True
    symbols = sum(ch in _SYMBOLS for ch in token)
    if symbols >= 3 and entropy >= 4.0 and surprise >= 0.1:
        return True  # Django-style keys: letters, digits and punctuation
    longest = max((len(run) for run in _RUN.findall(token)), default=0)
    return len(token) >= 32 and entropy >= 4.0 and longest >= 16 and surprise >= 0.1


def _url_looks_secret(token: str) -> bool:
    """A URL is fine unless a piece of its path, query or fragment is a generated key."""
    try:
        parts = urlsplit(token)
    except ValueError:
        return looks_random(token)
    pieces = re.split(r"[/?&=#:;,]+", f"{parts.path}?{parts.query}#{parts.fragment}")
    return any(looks_random(p) for p in pieces)


def secret_reason(text: str) -> str | None:
    """What secret ``text`` seems to contain ("a Stripe secret or restricted key"), or None.

    The answer names a kind, never the text, so it can be shown and logged.
    """
    if not text:
        return None
    for pattern, reason in _KNOWN_SECRETS:
        if pattern.search(text):
            return reason
    for word in text.split():
        if len(word) < RANDOM_MIN_LENGTH or _PUBLISHABLE.fullmatch(word.strip(_QUOTES)):
            continue
        if "://" in word:
            if _url_looks_secret(word):
                return "a URL with a key in it"
            continue
        pieces = {word, *_TOKEN_SPLIT.split(word), *word.split("=", 1)}
        if any(looks_random(piece) for piece in pieces):
            return "a long random string (a key, token or password)"
    return None


def refusal(reason: str) -> str:
    """The sentence a form or the API shows for a refused secret."""
    return (
        f"This looks like a secret ({reason}), so it was not saved. "
        "Write down where the secret is kept, never the secret itself."
    )


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitName:
    """A name field's text with anything after ``=`` cut off."""

    name: str
    had_value: bool  # a non-empty value after "=" was discarded


_YAML_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?:[ \t]+(.*)|$)", re.DOTALL)


def split_assignment(text: str) -> SplitName:
    """``"export DATABASE_URL=postgres://…"`` → ``SplitName("DATABASE_URL", had_value=True)``.

    ``NAME: value`` (YAML, as in docker-compose files) is read the same way.
    """
    text = text.strip()
    if text.startswith("export ") or text.startswith("export\t"):
        text = text[7:].lstrip()
    yaml_style = _YAML_ASSIGNMENT.fullmatch(text)
    if "=" not in text and yaml_style:
        text = f"{yaml_style.group(1)}={yaml_style.group(2) or ''}"
    name, eq, value = text.partition("=")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return SplitName(name=name.strip(), had_value=bool(eq and value.strip()))


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a usable variable name (a sentence without the name), or None."""
    if not name:
        return "Enter the variable's name, e.g. DATABASE_URL."
    reason = secret_reason(name)
    if reason:
        return refusal(reason)
    if len(name) > NAME_MAX_LENGTH:
        return f"A variable name has at most {NAME_MAX_LENGTH} characters."
    if not NAME_RE.fullmatch(name):
        return "A variable name uses letters, digits and underscores and does not start with a digit."
    return None


def normalize_environment(text: str) -> str:
    return text.strip().lower()


def environment_problem(environment: str) -> str | None:
    """Why ``environment`` (already normalized) is not a usable environment name, or None."""
    if not environment:
        return "Enter the environment, e.g. production or staging."
    reason = secret_reason(environment)
    if reason:
        return refusal(reason)
    if len(environment) > ENVIRONMENT_MAX_LENGTH:
        return f"An environment name has at most {ENVIRONMENT_MAX_LENGTH} characters."
    if not ENVIRONMENT_RE.fullmatch(environment):
        return "An environment name uses lower-case letters, digits, “-”, “_” and “.”, e.g. production."
    return None


# Names every shell or CI runner sets: a gate call lists them, but they are not
# "unknown" to the inventory in any useful sense.
_PLATFORM_NAMES = frozenset(
    "_ CI COLUMNS DEBIAN_FRONTEND EDITOR HOME HOSTNAME HOSTTYPE IFS LANG LANGUAGE LINES LOGNAME "
    "MACHTYPE MAIL OLDPWD OSTYPE PAGER PATH PPID PS1 PS2 PS4 PWD SHELL SHELLOPTS BASHOPTS SHLVL TERM "
    "TMP TEMP TMPDIR TZ USER UID EUID GROUPS LAUNCHREADY_TOKEN ImageOS ImageVersion JAVA_HOME NVM_DIR "
    "GOROOT GOPATH PIPX_HOME PIPX_BIN_DIR POWERSHELL_DISTRIBUTION_CHANNEL SWIFT_PATH CONDA".split()
)
_PLATFORM_PREFIXES = (
    "GITHUB_",
    "RUNNER_",
    "ACTIONS_",
    "INPUT_",
    "STATE_",
    "CI_",
    "GITLAB_",
    "FF_",
    "BUILDKITE",
    "CIRCLE",
    "BITBUCKET_",
    "TRAVIS",
    "JENKINS_",
    "BUILD_",
    "LC_",
    "XDG_",
    "SSH_",
    "BASH_",
    "DOTNET_",
    "ANDROID_",
    "JAVA_HOME_",
    "GOROOT_",
    "CHROME",
    "GECKOWEBDRIVER",
    "SELENIUM_",
    "VCPKG_",
    "AZURE_EXTENSION_DIR",
    "HOMEBREW_",
    "npm_",
)


def is_platform_name(name: str) -> bool:
    """Whether ``name`` is set by the shell or the CI runner rather than by the store's team."""
    return name in _PLATFORM_NAMES or name.startswith(_PLATFORM_PREFIXES)


# ---------------------------------------------------------------------------
# Parsing .env text
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedVariable:
    name: str
    purpose: str
    required: bool
    line: int


@dataclass(frozen=True)
class ParsedEnv:
    """What an env file holds apart from its values: those are only counted."""

    variables: tuple[ParsedVariable, ...]
    discarded_values: int
    skipped_lines: tuple[int, ...]  # neither blank, a comment nor NAME=…, or a refused name
    refused_comments: tuple[int, ...]  # comments that looked like secrets: not used as purposes
    duplicates: tuple[str, ...]  # names given again later in the file (the first one counts)


_ASSIGNMENT = re.compile(r"(?:export[ \t]+)?([^=\s]+)[ \t]*=(.*)")
_COMMENTED_ASSIGNMENT = re.compile(r"(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_]*[ \t]*=(.*)")
# "(optional)" / "(required)" at the end of a comment, or "Optional:" at its start.
_TRAILING_MARKER = re.compile(r"(?i)\s*\(\s*(required|optional)\s*\)\s*$")
_LEADING_MARKER = re.compile(r"(?i)^(required|optional)\s*(?:[:.,-]\s*|$)")
_DECORATION = "-=*#~_ \t"


def _value_end(first: str, lines: list[str], index: int) -> tuple[bool, int]:
    """Whether the value starting on line ``index`` (text ``first`` after "=") is
    non-empty, and the index of the line it ends on (a quoted value may span lines)."""
    rest = first.strip()
    if not rest or (rest.startswith("#") and first[:1].isspace()):  # "NAME= # comment"
        return False, index
    quote = rest[0]
    if quote not in "\"'":
        return bool(rest.split(" #", 1)[0].strip()), index
    body = rest[1:]
    closing = _closing_quote(body, quote)
    if closing is not None:
        return bool(body[:closing]), index
    # The value goes on until a line with the closing quote; without one it was a
    # lone quote character on a one-line value.
    for end in range(index + 1, len(lines)):
        if _closing_quote(lines[end], quote) is not None:
            return True, end
    return True, index


def _closing_quote(text: str, quote: str) -> int | None:
    i = 0
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return None


def _split_marker(comment: str) -> tuple[str, bool | None]:
    """A comment without its required/optional marker, and what the marker said (None: none)."""
    for marker in (_TRAILING_MARKER, _LEADING_MARKER):
        found = marker.search(comment)
        if found:
            return (comment[: found.start()] + comment[found.end() :]).strip(), found.group(
                1
            ).lower() == "required"
    return comment, None


@dataclass
class _Comments:
    """The comment lines directly above the next variable: its purpose and whether it is required."""

    lines: list[str] = field(default_factory=list)
    required: bool = True

    def clear(self) -> None:
        self.lines, self.required = [], True

    def add(self, comment: str) -> bool:
        """Keep one comment line; False when it looked like a secret (its marker still counts)."""
        comment, required = _split_marker(comment)
        if required is not None:
            self.required = required
        if secret_reason(comment):
            return False
        if comment and not comment[0].isalnum():
            comment = comment.strip(_DECORATION)  # "# --- Payments ---"
        if comment:
            self.lines.append(comment)
        return True

    def purpose(self) -> str:
        purpose = " ".join(self.lines)
        if len(purpose) > PURPOSE_MAX_LENGTH:
            purpose = purpose[: PURPOSE_MAX_LENGTH - 1].rstrip() + "…"
        return purpose


def parse_env(text: str) -> ParsedEnv:
    """Names and purposes of an env file; every value is dropped and only counted.

    Comments directly above a line (no blank line between) become its purpose;
    ``export`` prefixes, quotes, blank values, inline comments and quoted values over
    several lines are understood. A commented-out assignment (``# OLD_KEY=…``) is not
    a purpose; a comment or name that looks like a secret is not kept.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    variables: list[ParsedVariable] = []
    seen: set[str] = set()
    discarded = 0
    skipped: list[int] = []
    refused: list[int] = []
    duplicates: list[str] = []
    comments = _Comments()
    i = 0
    while i < len(lines):
        line_no, line = i + 1, lines[i].strip()
        i += 1
        if line.startswith("#"):
            comment = line.lstrip("#").strip()
            commented_out = _COMMENTED_ASSIGNMENT.fullmatch(comment)
            if commented_out:
                discarded += bool(commented_out.group(1).strip())
                comments.clear()
            elif not comments.add(comment):
                refused.append(line_no)
            continue
        match = _ASSIGNMENT.fullmatch(line) if line else None
        if match:
            had_value, end = _value_end(match.group(2), lines, i - 1)
            i = end + 1
            discarded += had_value
            name = match.group(1)
            if name_problem(name):
                skipped.append(line_no)
            elif name in seen:
                duplicates.append(name)
            else:
                seen.add(name)
                variables.append(ParsedVariable(name, comments.purpose(), comments.required, line_no))
        elif line:
            skipped.append(line_no)
        comments.clear()
    return ParsedEnv(
        variables=tuple(variables),
        discarded_values=discarded,
        skipped_lines=tuple(skipped),
        refused_comments=tuple(refused),
        duplicates=tuple(duplicates),
    )


# ---------------------------------------------------------------------------
# Writing .env.example text
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExampleVariable:
    name: str
    purpose: str
    required: bool


def format_env_example(variables: list[ExampleVariable], header: list[str] | None = None) -> str:
    """A ``.env.example``: names with empty values, the purpose and "(required)" or
    "(optional)" as the comment above each; :func:`parse_env` reads it back."""
    out = [f"# {line}" for line in header or []]
    for var in variables:
        if out:
            out.append("")
        marker = "(required)" if var.required else "(optional)"
        out.append(f"# {var.purpose} {marker}" if var.purpose else f"# {marker}")
        out.append(f"{var.name}=")
    return "\n".join(out) + "\n"
