"""Settings: config.yaml parsed once into frozen dataclasses, overridable by LIANHU_* variables.

The only module that reads the configuration file or the environment. Everything else receives
the settings object (or the part of it that it needs) as an argument.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError

PREFIX = "LIANHU_"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///var/lianhu.db"
    echo: bool = False


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    workers: int = 1
    api_docs: bool = False  # /openapi.json and /docs (off: the schema maps the attack surface)

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class PathSettings:
    var_dir: str = "var"
    catalog: str = "data/catalog/demands.yaml"
    resources: str = "data/catalog/resources.yaml"
    strings: str = "bot/strings/zh-CN.yaml"
    nlu_training: str = "nlu/training"
    nlu_model_cache: str = "var/cache/nlu-model.pkl"
    model_cache: str = "var/cache/models"
    recordings: str = "var/recordings"


@dataclass(frozen=True)
class ChannelSettings:
    enabled: tuple[str, ...] = ("console", "web")
    web_token_days: int = 365


@dataclass(frozen=True)
class WechatSettings:
    menu: tuple[dict[str, str], ...] = ()
    reply_timeout_seconds: float = 4.5
    api_base_url: str = "https://api.weixin.qq.com"
    template_id_task: str = ""
    template_id_update: str = ""
    wecom_enabled: bool = False
    wecom_corp_id: str = ""
    wecom_agent_id: int = 0
    wecom_api_base_url: str = "https://qyapi.weixin.qq.com"
    freshness_seconds: float = 300  # a signed request whose timestamp is further off is refused
    # secrets: environment only
    token: str = ""
    app_id: str = ""
    app_secret: str = ""
    aes_key: str = ""
    wecom_secret: str = ""


@dataclass(frozen=True)
class TelegramSettings:
    mode: str = "polling"
    webhook_path: str = "/telegram"
    api_base_url: str = "https://api.telegram.org/bot"
    per_chat_rate: float = 1.0
    global_rate: float = 30.0
    token: str = ""  # secret: environment only
    webhook_secret: str = ""  # secret: environment only


@dataclass(frozen=True)
class NluSettings:
    backend: str = "builtin"
    rasa_url: str = "http://127.0.0.1:5005"
    confidence_threshold: float = 0.55
    rasa_timeout_seconds: float = 3.0


@dataclass(frozen=True)
class AsrSettings:
    backend: str = "whisper"
    whisper_model: str = "whisper-base"
    whisper_compute_type: str = "int8"
    whisper_threads: int = 2
    whisper_beam_size: int = 5  # 1 = greedy decoding
    whisper_phone_beam_size: int = 5  # for 8 kHz phone audio
    whisper_nbest: int = (
        2  # readings of the beam handed to understanding (at most the beam size; 1 = top only)
    )
    whisper_catalog_prompt: bool = False  # catalog words in every prompt (off: hints only, else none)
    whisper_full_window: bool = (
        True  # 16 kHz clips in Whisper's 30 s window, with timestamps (phone: speech + 10 s)
    )
    whisper_loop_penalty: float = 1.2  # a looping reading is decoded again with this penalty (1: not)
    batch_max: int = 1  # recognitions decoded together at most (voice/batching.py)
    batch_pad_seconds: float = 1.0  # clips differing more in length are not batched together
    queue_max: int = 32  # recognitions waiting or running; beyond, all but incoming calls are "busy"
    workers: int = 2  # recognitions decoded at once, each on whisper_threads / workers threads
    greedy_when_waiting: int = 2  # this many still queued: decode greedily, not with the beam (0: never)
    vosk_model_dir: str = ""
    min_confidence: float = 0.6
    max_seconds: float = 60.0
    max_bytes: int = 2 * 1024 * 1024
    malloc_arenas: int = 2  # glibc malloc arenas once the recognizer loads (0: glibc's default)


@dataclass(frozen=True)
class TtsSettings:
    backend: str = "prompts"
    live_backend: str = "espeak"
    espeak_voice: str = "cmn"
    espeak_speed: int = 130
    gtts_timeout_seconds: float = 5.0


@dataclass(frozen=True)
class PhoneSettings:
    enabled: bool = False
    sip_listen: str = "127.0.0.1:5060"
    max_calls: int = 12
    duty_number: str = ""
    office_hours: str = "08:30-17:30"
    no_input_seconds: float = 6.0
    max_retries: int = 2
    agi_listen: str = "127.0.0.1:4573"
    end_silence_ms: int = 600
    early_recognition_ms: int = 250
    outbound_uri: str = "sip:{number}@127.0.0.1"  # where an outbound call to a resident's number goes
    outbound_max_calls: int = 4  # outbound calls at once; incoming calls always keep their slots
    # How notice calls are placed: "sip" (the line's own SIP user agent) or "ami" (Asterisk originates
    # them over its manager interface, then hands the answered call to our FastAGI server).
    outbound_via: str = "sip"
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = "lianhu"
    ami_secret: str = ""  # secret: environment only (LIANHU_PHONE_AMI_SECRET)
    ami_channel: str = "PJSIP/{number}@trunk"  # what Asterisk dials for a resident's number
    ami_agi: str = "agi://127.0.0.1:4573"  # our FastAGI server as Asterisk reaches it
    ami_caller_id: str = ""  # shown on the resident's phone, e.g. 联户小助手 <12345>


@dataclass(frozen=True)
class DeadlineSettings:
    tier1_accept_hours: float = 24
    tier1_resolve_hours: float = 72
    tier2_accept_hours: float = 24
    tier2_resolve_hours: float = 120
    tier3_accept_hours: float = 48
    tier3_resolve_hours: float = 240
    emergency_realert_minutes: float = 5
    emergency_ack_target_minutes: float = 30
    rating_timeout_hours: float = 72
    scheduler_interval_seconds: float = 60
    referral_accept_hours: float = 12  # a provider accepts a referred ticket within this
    activity_reminder_hours: float = 24  # residents signed up are reminded this long before

    def accept_hours(self, tier: int) -> float:
        return float(getattr(self, f"tier{tier}_accept_hours"))

    def resolve_hours(self, tier: int) -> float:
        return float(getattr(self, f"tier{tier}_resolve_hours"))


@dataclass(frozen=True)
class EmergencySettings:
    duty_identity: str = "demo:duty"


@dataclass(frozen=True)
class OutboxSettings:
    batch_size: int = 50
    max_attempts: int = 8
    backoff_base_seconds: float = 5
    poll_seconds: float = 1.0


@dataclass(frozen=True)
class NoticeSettings:
    """Notices (通知) and consultations (议事协商) sent by leaders, grid workers and staff."""

    max_chars: int = 300
    per_sender_per_day: int = 10  # notices and consultations one sender may start in 24 hours
    votes_per: str = "household"  # household | resident
    consult_default_hours: float = 72  # closing time when none is said
    call_after_minutes: float = 120  # not acknowledged this long after sending: phone
    call_attempts: int = 3  # attempts per household (unanswered or busy is tried again)
    call_spacing_minutes: float = 30
    call_hours: str = "08:00-20:00"  # local time; outside it nobody is called
    call_ring_seconds: float = 30  # ringing this long without an answer counts as no answer
    call_repeats: int = 2  # times the notice is read again on 9 (or on silence)
    poll_seconds: float = 5.0  # how often the caller looks for calls due


@dataclass(frozen=True)
class AlertSettings:
    cluster_threshold: int = 3
    cluster_window_hours: float = 24


@dataclass(frozen=True)
class PrivacySettings:
    recording_retention_days: int = 30
    mask_phone_in_logs: bool = True


@dataclass(frozen=True)
class WorkbenchSettings:
    session_hours: float = 12
    signin_max_failures: int = 5
    lockout_minutes: float = 15
    client_attempts_per_window: int = 30
    client_window_minutes: float = 10
    link_minutes: float = 30
    page_size: int = 50
    secure_cookies: bool = False


@dataclass(frozen=True)
class LimitSettings:
    """Abuse and resource limits. Counters live in each server process (N workers: up to N times)."""

    body_bytes: int = 1024 * 1024  # any request body, unless its route has a limit below
    chat_body_bytes: int = 16 * 1024  # /api/chat, /api/speak
    webhook_body_bytes: int = 64 * 1024  # /wechat, /telegram
    upload_body_bytes: int = 10 * 1024 * 1024  # workbench registry imports
    body_idle_seconds: float = 10  # a body that stops arriving for this long is refused (408)
    header_timeout_seconds: float = 10  # a request's headers must arrive within this
    keepalive_seconds: float = 5  # an idle connection between requests is closed after this
    max_connections: int = 1000  # connections and requests at once per server process (503 beyond)
    speak_max_chars: int = 600  # characters read aloud per request
    speak_per_identity: int = 1  # syntheses in flight for one person
    speak_in_flight: int = 2  # syntheses in flight overall
    speak_queue: int = 8  # syntheses waiting beyond those; more are answered "busy"
    speak_cache_mb: int = 32  # rendered audio kept for replies said again
    recognition_queue: int = 8  # voice notes waiting for the recognizer; more are answered "busy"
    chat_turns_per_minute: int = 30  # per person (token, openid, chat)
    failed_tokens_per_minute: int = 20  # per source address
    binding_requests_per_day: int = 3  # per unbound account
    proxy_reports_per_day: int = 5  # reports by a resident for other households


@dataclass(frozen=True)
class Open311Settings:
    enabled: bool = True
    jurisdiction_id: str = ""  # when set, a request naming another jurisdiction is refused (404)
    public_read: bool = True  # anyone may read requests without a key; false = a key is required
    public_descriptions: bool = True  # residents' own words in public answers (scrubbed of numbers, names)
    page_size: int = 50
    max_page_size: int = 200
    default_days: int = 90  # requests.json without dates covers this many days back (the spec's default)
    rate_per_minute: int = 60  # a new key's budget (python -m bot api-key create --rate N)
    webhook_timeout_seconds: float = 5


@dataclass(frozen=True)
class LoggingSettings:
    level: str = "INFO"
    format: str = "text"  # text | json (one JSON object a line)


@dataclass(frozen=True)
class MetricsSettings:
    enabled: bool = True
    localhost_only: bool = True  # without a token: only requests made on this machine, not via a proxy
    multiprocess_dir: str = ""  # shared by server workers and dispatchers; "" = <var_dir>/metrics
    token: str = ""  # secret: environment only


@dataclass(frozen=True)
class BackupSettings:
    dir: str = "var/backups"
    keep: int = 14
    include_recordings: bool = True
    pg_dump: str = "pg_dump"
    pg_restore: str = "pg_restore"


@dataclass(frozen=True)
class DoctorSettings:
    min_free_disk_mb: int = 1024
    outbox_stall_seconds: float = 300
    max_clock_skew_seconds: float = 60
    hotline_callers: int = 10
    hotline_reply_within_seconds: float = 2.5
    voice_note_within_seconds: float = 1.5


@dataclass(frozen=True)
class Settings:
    locale: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    community_name: str = "幸福里社区"
    root: str = "."
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    paths: PathSettings = field(default_factory=PathSettings)
    channels: ChannelSettings = field(default_factory=ChannelSettings)
    wechat: WechatSettings = field(default_factory=WechatSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    nlu: NluSettings = field(default_factory=NluSettings)
    asr: AsrSettings = field(default_factory=AsrSettings)
    tts: TtsSettings = field(default_factory=TtsSettings)
    phone: PhoneSettings = field(default_factory=PhoneSettings)
    deadlines: DeadlineSettings = field(default_factory=DeadlineSettings)
    emergency: EmergencySettings = field(default_factory=EmergencySettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    notices: NoticeSettings = field(default_factory=NoticeSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    workbench: WorkbenchSettings = field(default_factory=WorkbenchSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    open311: Open311Settings = field(default_factory=Open311Settings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    backup: BackupSettings = field(default_factory=BackupSettings)
    doctor: DoctorSettings = field(default_factory=DoctorSettings)

    def path(self, relative: str) -> Path:
        """Resolve a configured path against the project root."""
        p = Path(relative)
        return p if p.is_absolute() else Path(self.root) / p

    def with_overrides(self, **sections: Any) -> Settings:
        """A copy with some top-level fields or whole sections replaced (tests, CLI flags)."""
        return dataclasses.replace(self, **sections)


# Keys that may only come from the environment.
SECRET_KEYS = {
    ("wechat", "token"),
    ("wechat", "app_id"),
    ("wechat", "app_secret"),
    ("wechat", "aes_key"),
    ("wechat", "wecom_secret"),
    ("telegram", "token"),
    ("telegram", "webhook_secret"),
    ("metrics", "token"),
    ("phone", "ami_secret"),
}


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read config.yaml (default: next to this project) and apply LIANHU_* overrides."""
    environ = os.environ if environ is None else environ
    root = Path(__file__).resolve().parent.parent
    config_path = Path(path or environ.get("LIANHU_CONFIG") or root / "config.yaml")
    raw: dict[str, Any] = {}
    if config_path.exists():
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    for section, key in SECRET_KEYS:
        if key in (raw.get(section) or {}):
            raise ConfigError(f"{section}.{key} is a secret: set {PREFIX}{section.upper()}_{key.upper()}")
    raw.setdefault("root", str(config_path.resolve().parent))
    return _build(Settings, raw, environ, ())


def _build(cls: type, raw: Mapping[str, Any], environ: Mapping[str, str], prefix: tuple[str, ...]) -> Any:
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        keypath = (*prefix, f.name)
        if dataclasses.is_dataclass(hint):
            values[f.name] = _build(hint, raw.get(f.name) or {}, environ, keypath)  # type: ignore[arg-type]
            continue
        env_name = PREFIX + "_".join(keypath).upper()
        if env_name in environ:
            values[f.name] = _coerce(environ[env_name], hint, env_name)
        elif f.name in raw:
            values[f.name] = _coerce(raw[f.name], hint, ".".join(keypath))
    return cls(**values)


def _coerce(value: Any, hint: Any, name: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        return tuple(value or ())
    if origin in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    try:
        if hint is bool:
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off", ""):
                    return False
                raise ValueError(value)
            return bool(value)
        if hint in (int, float, str):
            return hint(value)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{name}: cannot use {value!r} as {hint.__name__}") from err
    return value
