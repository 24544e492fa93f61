//! The records of a conversation: tenants, bots, channels, contacts, conversations,
//! messages and turn decisions. The store keeps them; the pipeline works on them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::content::Content;

/// A shop: the unit of isolation. Everything below belongs to exactly one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Short id, also used in URLs and logs (`may`).
    pub id: String,
    /// Display name (`Thời Trang Mây`).
    pub name: String,
    /// When it was created, ms since the Unix epoch.
    pub created_at_ms: i64,
}

/// One assistant of a tenant, with its own texts, thresholds and plugins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bot {
    /// Globally unique id, the `data-bot` of the widget (`may`).
    pub id: String,
    /// Its tenant.
    pub tenant_id: String,
    /// Display name, the widget's default title.
    pub name: String,
    /// Languages, texts, thresholds and plugins.
    pub settings: BotSettings,
    /// Key for signed widget visitor identities (HMAC-SHA256 of the shop's user id).
    pub widget_secret: String,
    /// When it was created, ms since the Unix epoch.
    pub created_at_ms: i64,
}

/// What an admin tunes on a bot. Every field has a default so a bot file may name only
/// what differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BotSettings {
    /// Languages the bot answers in; the first is the default. Default `["vi", "en"]`.
    pub languages: Vec<String>,
    /// Texts the bot says on its own, per language.
    pub texts: BotTexts,
    /// Confidence thresholds of the orchestrator's tiers.
    pub thresholds: Thresholds,
    /// Plugins this bot runs, middleware in this order. Versions and config come from the
    /// tenant's plugin settings unless overridden here.
    pub plugins: Vec<BotPlugin>,
    /// Origins (`https://may.vn`) whose pages may embed this bot's widget; `*` allows any.
    /// Default none: only pages served by this host (the demo). Browsers on other sites
    /// are refused (403 `origin_not_allowed`).
    pub allowed_origins: Vec<String>,
    /// When and how the bot hands a conversation to a person.
    pub handover: super::handover::HandoverSettings,
    /// The LLM of the agentic tier; none (the default): the bot answers from its FAQ and
    /// documents only.
    pub llm: Option<crate::llm::LlmSettings>,
}

impl Default for BotSettings {
    fn default() -> Self {
        Self {
            languages: vec!["vi".into(), "en".into()],
            texts: BotTexts::default(),
            thresholds: Thresholds::default(),
            plugins: Vec::new(),
            allowed_origins: Vec::new(),
            handover: super::handover::HandoverSettings::default(),
            llm: None,
        }
    }
}

impl BotSettings {
    /// The bot's default language.
    pub fn default_language(&self) -> &str {
        self.languages.first().map(String::as_str).unwrap_or("vi")
    }
}

/// A text in each language, keyed by language code (`vi`, `en`).
pub type Localized = BTreeMap<String, String>;

/// Texts the bot says on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BotTexts {
    /// Shown when the widget opens.
    #[schema(value_type = BTreeMap<String, String>)]
    pub welcome: Localized,
    /// Said when no tier is confident: the bot does not know, and offers a person.
    /// (Named `rephrase` in shop files from before the knowledge tier.)
    #[serde(alias = "rephrase")]
    #[schema(value_type = BTreeMap<String, String>)]
    pub unknown: Localized,
}

impl Default for BotTexts {
    fn default() -> Self {
        let localized = |vi: &str, en: &str| {
            Localized::from([
                ("vi".to_owned(), vi.to_owned()),
                ("en".to_owned(), en.to_owned()),
            ])
        };
        Self {
            welcome: localized(
                "Xin chào! Mình có thể giúp gì cho bạn?",
                "Hello! How can I help you?",
            ),
            unknown: localized(
                "Xin lỗi, mình chưa có thông tin để trả lời câu này. Bạn muốn gặp nhân viên tư vấn không? Nhắn \"gặp nhân viên\" để được hỗ trợ trực tiếp.",
                "Sorry, I don't have the information to answer that. Would you like to talk to a person? Type \"talk to a person\" to reach our staff.",
            ),
        }
    }
}

impl BotTexts {
    /// The text in `language`, else in any language the bot has, else empty.
    pub fn pick<'a>(texts: &'a Localized, language: &str) -> &'a str {
        texts
            .get(language)
            .or_else(|| texts.values().next())
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// Confidence thresholds, each a score in `0.0..=1.0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Least fused retrieval score (rescaled cosine + lexical coverage) for answering with
    /// an FAQ entry that is not an exact match. A wrong FAQ answer costs more than saying
    /// "I don't know" and offering a person, so the default is strict.
    #[serde(alias = "faq_semantic")]
    pub faq: f32,
    /// How far the best FAQ entry must lead the runner-up: two entries close together
    /// mean the question is ambiguous.
    pub faq_margin: f32,
    /// Least fused score of the best document chunk for a knowledge answer.
    pub knowledge: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            faq: 0.5,
            faq_margin: 0.03,
            knowledge: 0.38,
        }
    }
}

/// A plugin a bot runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BotPlugin {
    /// Installed plugin name.
    pub name: String,
    /// Version this bot runs; `None`: the tenant's pin, else the newest installed.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "1.2.0")]
    pub version: Option<semver::Version>,
    /// Config keys that differ from the tenant's config for this plugin.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
}

/// What carries messages between a bot and its customers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ChannelKind {
    /// The built-in web widget.
    Widget,
    /// A channel-adapter plugin (`zalo-oa`, `messenger`, `telegram`).
    Plugin {
        /// Its name.
        plugin: String,
    },
}

/// One channel instance: one Zalo OA, one Facebook page, one bot's widget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    /// Globally unique id; webhooks arrive at `/v1/hooks/{id}`.
    pub id: String,
    /// Its tenant.
    pub tenant_id: String,
    /// The bot answering on it.
    pub bot_id: String,
    /// Widget or plugin.
    pub kind: ChannelKind,
    /// Channel credentials (tokens, app secrets), handed to the plugin as config.
    pub secrets: BTreeMap<String, String>,
    /// Whether it accepts and sends messages.
    pub enabled: bool,
    /// When it was created, ms since the Unix epoch.
    pub created_at_ms: i64,
}

/// The start of a contact's channel user id when the contact is a phone number (the
/// recipient of a template message, Zalo ZNS), not a channel's own user id.
pub const PHONE_PREFIX: &str = "phone:";

impl Channel {
    /// The id of a bot's built-in widget channel.
    pub fn widget_id(bot_id: &str) -> String {
        format!("widget-{bot_id}")
    }
}

/// A person as one channel knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    /// loa's id.
    pub id: String,
    /// Its tenant.
    pub tenant_id: String,
    /// The channel it writes on.
    pub channel_id: String,
    /// The channel's id for this person (Zalo user id, widget visitor id ...).
    pub channel_user_id: String,
    /// Display name, when known.
    pub display_name: Option<String>,
    /// When first seen, ms since the Unix epoch.
    pub created_at_ms: i64,
}

/// Who holds a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// The bot answers.
    Bot,
    /// Queued for a human; the bot is silent.
    Waiting,
    /// An operator owns it; the bot is silent.
    Human,
    /// Over; the next message opens a new conversation.
    Closed,
}

impl SessionState {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bot => "bot",
            Self::Waiting => "waiting",
            Self::Human => "human",
            Self::Closed => "closed",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "bot" => Self::Bot,
            "waiting" => Self::Waiting,
            "human" => Self::Human,
            "closed" => Self::Closed,
            _ => return None,
        })
    }
}

/// One conversation (session) between a contact and a bot on a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Conversation {
    /// loa's id.
    pub id: String,
    /// Its tenant.
    pub tenant_id: String,
    /// The bot.
    pub bot_id: String,
    /// The channel.
    pub channel_id: String,
    /// The customer.
    pub contact_id: String,
    /// Who holds it.
    pub state: SessionState,
    /// The operator (user id) holding it while `human`.
    pub assigned_to: Option<String>,
    /// When it last changed hands, ms since the Unix epoch (its creation before that):
    /// how long a customer has waited, how long an operator has held it.
    pub state_changed_at_ms: i64,
    /// Language of the conversation (`vi`, `en`).
    pub language: String,
    /// Turns in a row no tier answered confidently.
    pub consecutive_misses: u32,
    /// Last message either way, ms since the Unix epoch.
    pub last_activity_ms: i64,
    /// When it started, ms since the Unix epoch.
    pub created_at_ms: i64,
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the customer.
    Inbound,
    /// To the customer.
    Outbound,
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Sender {
    /// The customer.
    Contact,
    /// The bot.
    Bot,
    /// An operator, by user id.
    Operator(String),
    /// The host itself (notices).
    System,
}

impl Sender {
    /// The kind name shown to clients (`contact`, `bot`, `operator`, `system`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Bot => "bot",
            Self::Operator(_) => "operator",
            Self::System => "system",
        }
    }
}

/// One stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    /// Grows with every message stored; orders a conversation and resumes the widget.
    pub id: i64,
    /// Its tenant.
    pub tenant_id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// Which way.
    pub direction: Direction,
    /// Who wrote it.
    pub sender: Sender,
    /// What it says.
    pub content: Content,
    /// The channel's id for it (inbound: the event id; outbound: set once delivered).
    pub channel_message_id: Option<String>,
    /// When it was stored, ms since the Unix epoch.
    pub created_at_ms: i64,
}

/// A message about to be stored (no id yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    /// Who wrote it.
    pub sender: Sender,
    /// What it says.
    pub content: Content,
}

/// Why the orchestrator answered as it did, recorded for every turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TurnDecision {
    /// Which tier answered (`fast_path`, `knowledge`, `agentic`, `fallback`, `middleware`,
    /// `silent`).
    pub tier: String,
    /// Whether the answer was confident.
    pub confident: bool,
    /// The best score seen, when a tier scores.
    pub score: Option<f32>,
    /// What was considered: FAQ ids, documents, tool calls, with their scores.
    pub candidates: serde_json::Value,
    /// Time from taking the event to the reply, ms.
    pub latency_ms: u64,
    /// LLM tokens spent (0 without an LLM).
    pub tokens: u64,
}

/// A FAQ entry of a bot: the fast path's exact match, later the knowledge tier's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaqEntry {
    /// Id within the bot (`faq-01`).
    pub id: String,
    /// The canonical question.
    pub question: String,
    /// Other ways customers ask it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<String>,
    /// The answer, sent as is.
    pub answer: String,
    /// Topics, for admins and evaluation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}
