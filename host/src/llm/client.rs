//! The OpenAI-compatible chat-completions client: one call with its deadline, retried with
//! backoff on 429, 5xx and timeouts (the server's `Retry-After` respected up to a cap).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::settings::{LlmHostConfig, LlmSettings};
use super::wire::{ChatMessage, ChatRequest, ChatResponse, ToolDefinition, Usage};
use crate::delivery::retry::RetryPolicy;
use crate::plugins::is_private;

/// Why a model call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// No answer within the call's deadline.
    #[error("the model endpoint did not answer within {0} ms")]
    Timeout(u64),
    /// The endpoint could not be reached (refused, DNS, TLS).
    #[error("cannot reach the model endpoint: {0}")]
    Unreachable(String),
    /// The endpoint answered with an error status.
    #[error("the model endpoint answered {status}: {excerpt}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The start of its body.
        excerpt: String,
        /// What its `Retry-After` asked for.
        retry_after_ms: Option<u64>,
    },
    /// The answer is not a chat completion with a message.
    #[error("the model endpoint's answer is not a chat completion: {0}")]
    BadAnswer(String),
    /// The endpoint is on a private address and the host does not allow that.
    #[error(
        "the model endpoint {0} is on a private address; this host allows that only with \
         [llm] allow_private_network = true"
    )]
    PrivateAddress(String),
}

impl LlmError {
    /// Whether trying again may help: rate limits, server errors, timeouts, resets.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout(_) | Self::Unreachable(_) => true,
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            Self::BadAnswer(_) | Self::PrivateAddress(_) => false,
        }
    }
}

/// A model's answer to one call, after retries.
#[derive(Debug, Clone)]
pub struct Completion {
    /// What the model said.
    pub message: ChatMessage,
    /// Why it stopped (`stop`, `tool_calls`, `length`).
    pub finish_reason: Option<String>,
    /// Tokens, as the server counted them (zero when it did not say).
    pub usage: Usage,
    /// Calls made, the first included.
    pub attempts: u32,
    /// From the first attempt to the answer, waits included.
    pub latency: Duration,
}

/// The longest `Retry-After` a turn waits for: a customer is waiting on the other side, so
/// a server asking for more is treated as down for this turn.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// Characters of an error body kept in the error (and the turn's trace).
const EXCERPT_CHARS: usize = 300;

/// Talks to OpenAI-compatible endpoints. Cheap to clone; share one per host.
#[derive(Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    allow_private_network: bool,
}

impl LlmClient {
    /// A client with its own connection pool, reaching private addresses only when
    /// `policy` allows.
    pub fn new(policy: &LlmHostConfig) -> Self {
        let mut builder =
            reqwest::Client::builder().user_agent(concat!("loa/", env!("CARGO_PKG_VERSION")));
        if !policy.allow_private_network {
            // Names are checked after resolution, so a public name pointing at 10.0.0.1
            // is refused too; IP literals are checked before the request.
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Self {
            http: builder.build().unwrap_or_default(),
            allow_private_network: policy.allow_private_network,
        }
    }

    /// One chat completion with `tools`, retried as the settings allow.
    pub async fn complete(
        &self,
        settings: &LlmSettings,
        messages: &[ChatMessage],
        tools: &[ToolDefinition],
        max_tokens: u32,
    ) -> Result<Completion, LlmError> {
        let started = Instant::now();
        let policy = RetryPolicy {
            max_attempts: settings.max_retries + 1,
            base_delay_ms: 400,
            max_delay_ms: 4_000,
        };
        let request = ChatRequest {
            model: &settings.model,
            messages,
            tools,
            temperature: settings.temperature,
            max_tokens,
        };
        let mut attempt = 1;
        loop {
            match self.attempt(settings, &request).await {
                Ok(answer) => return completion(answer, attempt, started),
                Err(error) if error.is_transient() && !policy.exhausted(attempt) => {
                    let asked = match &error {
                        LlmError::Status { retry_after_ms, .. } => *retry_after_ms,
                        _ => None,
                    };
                    if asked.is_some_and(|ms| ms > MAX_RETRY_AFTER.as_millis() as u64) {
                        return Err(error);
                    }
                    let seed = started.elapsed().subsec_nanos().into();
                    let wait = policy.delay_ms(attempt, asked, seed);
                    tracing::info!(model = %settings.model, attempt, wait_ms = wait, %error, "model call failed; retrying");
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn attempt(
        &self,
        settings: &LlmSettings,
        request: &ChatRequest<'_>,
    ) -> Result<ChatResponse, LlmError> {
        let url = format!(
            "{}/chat/completions",
            settings.base_url.trim().trim_end_matches('/')
        );
        if !self.allow_private_network
            && let Ok(parsed) = reqwest::Url::parse(&url)
        {
            let host = parsed.host_str().unwrap_or_default();
            let literal = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>();
            if literal.is_ok_and(is_private) || host.eq_ignore_ascii_case("localhost") {
                return Err(LlmError::PrivateAddress(host.to_owned()));
            }
        }
        let mut builder = self
            .http
            .post(url)
            .timeout(Duration::from_millis(settings.timeout_ms))
            .json(request);
        if let Some(key) = settings.api_key.as_deref().filter(|key| !key.is_empty()) {
            builder = builder.bearer_auth(key);
        }
        let response = builder
            .send()
            .await
            .map_err(|error| sent(settings, error))?;
        let status = response.status();
        let retry_after_ms = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(retry_after_ms);
        let body = response
            .bytes()
            .await
            .map_err(|error| sent(settings, error))?;
        if !status.is_success() {
            return Err(LlmError::Status {
                status: status.as_u16(),
                excerpt: excerpt(&String::from_utf8_lossy(&body)),
                retry_after_ms,
            });
        }
        serde_json::from_slice(&body).map_err(|error| {
            LlmError::BadAnswer(format!(
                "{error}; body starts: {}",
                excerpt(&String::from_utf8_lossy(&body))
            ))
        })
    }
}

/// The first choice of `answer`, or why there is none.
fn completion(
    answer: ChatResponse,
    attempts: u32,
    started: Instant,
) -> Result<Completion, LlmError> {
    let choice = answer
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| LlmError::BadAnswer("no choices".into()))?;
    Ok(Completion {
        message: choice.message,
        finish_reason: choice.finish_reason,
        usage: answer.usage.unwrap_or_default(),
        attempts,
        latency: started.elapsed(),
    })
}

fn sent(settings: &LlmSettings, error: reqwest::Error) -> LlmError {
    if error.is_timeout() {
        LlmError::Timeout(settings.timeout_ms)
    } else if let Some(refused) = private_refusal(&error) {
        LlmError::PrivateAddress(refused)
    } else {
        // reqwest's own message ("error sending request") hides the cause; the chain has it.
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        LlmError::Unreachable(message)
    }
}

/// Resolves names like the system does, keeping only public addresses.
struct PublicOnly;

/// The resolver's refusal: every address of `name` is private.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves to private addresses only")]
struct OnlyPrivate(String);

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all
                .into_iter()
                .filter(|address| !is_private(address.ip()))
                .collect();
            if public.is_empty() {
                return Err(Box::new(OnlyPrivate(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The host name when `error` comes from [`PublicOnly`] refusing it.
fn private_refusal(error: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(OnlyPrivate(host)) = cause.downcast_ref::<OnlyPrivate>() {
            return Some(host.clone());
        }
        source = cause.source();
    }
    None
}

/// `Retry-After` in ms: delta-seconds, or an HTTP date.
fn retry_after_ms(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .map_or(0, |wait| wait.as_millis() as u64),
    )
}

/// The first characters of `text`, on one line.
pub(crate) fn excerpt(text: &str) -> String {
    let mut cut: String = text.chars().take(EXCERPT_CHARS).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after_ms("2"), Some(2_000));
        assert_eq!(retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        assert_eq!(retry_after_ms("soon"), None);
    }

    #[test]
    fn only_rate_limits_server_errors_and_network_failures_are_retried() {
        let status = |status| LlmError::Status {
            status,
            excerpt: String::new(),
            retry_after_ms: None,
        };
        assert!(status(429).is_transient());
        assert!(status(503).is_transient());
        assert!(!status(401).is_transient());
        assert!(!status(400).is_transient());
        assert!(LlmError::Timeout(10).is_transient());
        assert!(!LlmError::BadAnswer("x".into()).is_transient());
    }
}
