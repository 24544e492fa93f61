//! The `wasi:http` plumbing behind [`Request::send`](super::Request::send): build the
//! outgoing request, stream the body out, wait on the response future, read the body in.

use crate::bindings::imports::wasi::http::outgoing_handler;
use crate::bindings::imports::wasi::http::types::{
    Fields, HeaderError, IncomingBody, IncomingResponse, Method as WasiMethod, OutgoingBody,
    OutgoingRequest, RequestOptions, Scheme,
};
use crate::bindings::imports::wasi::io::streams::{InputStream, OutputStream, StreamError};

use super::error::describe_error_code;
use super::url::split_url;
use super::{HttpError, Method, Request, Response};

/// `blocking-write-and-flush` takes at most 4096 bytes per call (wasi:io contract).
const WRITE_CHUNK_BYTES: usize = 4096;

/// Bytes asked for per read; 64 KiB keeps the number of host calls low for big bodies.
const READ_CHUNK_BYTES: u64 = 64 * 1024;

pub(super) fn send(request: &Request) -> Result<Response, HttpError> {
    let url = request.url.as_str();
    let invalid = |reason: String| HttpError::InvalidRequest {
        url: url.to_owned(),
        reason,
    };
    let parts = split_url(url).map_err(|reason| HttpError::InvalidUrl {
        url: url.to_owned(),
        reason,
    })?;

    let headers = Fields::new();
    if needs_content_length(request) {
        // The body is all in memory, so say how long it is: without it the request goes
        // out chunked, which many APIs (and simple servers) reject or misread.
        headers
            .append("content-length", request.body.len().to_string().as_bytes())
            .map_err(|error| {
                invalid(format!("header 'content-length': {}", header_error(&error)))
            })?;
    }
    for (name, value) in &request.headers {
        headers
            .append(name, value.as_bytes())
            .map_err(|error| invalid(format!("header '{name}': {}", header_error(&error))))?;
    }
    let outgoing = OutgoingRequest::new(headers);
    outgoing
        .set_method(&wasi_method(&request.method))
        .map_err(|()| invalid(format!("method {:?} is not valid", request.method)))?;
    let scheme = if parts.scheme == "https" {
        Scheme::Https
    } else {
        Scheme::Http
    };
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| invalid("scheme rejected".into()))?;
    outgoing
        .set_authority(Some(parts.authority))
        .map_err(|()| invalid(format!("host '{}' is not valid", parts.authority)))?;
    outgoing
        .set_path_with_query(Some(&parts.path_with_query))
        .map_err(|()| invalid(format!("path '{}' is not valid", parts.path_with_query)))?;
    let body = outgoing
        .body()
        .map_err(|()| invalid("request body already taken".into()))?;

    let failed = |code: String| HttpError::Failed {
        url: url.to_owned(),
        code,
    };
    // Handle first, then write: the host streams the body, so writing a large body before
    // anyone reads it could block forever.
    let future = outgoing_handler::handle(outgoing, request_options(request))
        .map_err(|code| failed(describe_error_code(&code)))?;
    write_body(&body, &request.body).map_err(|reason| HttpError::Body {
        url: url.to_owned(),
        reason,
    })?;
    OutgoingBody::finish(body, None).map_err(|code| failed(describe_error_code(&code)))?;

    let response = loop {
        match future.get() {
            Some(Ok(Ok(response))) => break response,
            Some(Ok(Err(code))) => return Err(failed(describe_error_code(&code))),
            Some(Err(())) => return Err(failed("response already taken".into())),
            None => future.subscribe().block(),
        }
    };
    read_response(url, &response, request.max_response_bytes)
}

/// A body, or a method that normally has one (an empty POST still says `content-length: 0`),
/// unless the caller set the header already.
fn needs_content_length(request: &Request) -> bool {
    let has_body = !request.body.is_empty()
        || matches!(request.method, Method::Post | Method::Put | Method::Patch);
    has_body
        && !request
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-length"))
}

fn request_options(request: &Request) -> Option<RequestOptions> {
    let timeout = request.timeout?;
    let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
    let options = RequestOptions::new();
    // A host that cannot enforce a timeout says so with an error; its own per-call limit
    // still applies, so going on without ours is the useful choice.
    let _ = options.set_connect_timeout(Some(nanos));
    let _ = options.set_first_byte_timeout(Some(nanos));
    let _ = options.set_between_bytes_timeout(Some(nanos));
    Some(options)
}

fn write_body(body: &OutgoingBody, bytes: &[u8]) -> Result<(), String> {
    if bytes.is_empty() {
        return Ok(());
    }
    let stream: OutputStream = body.write().map_err(|()| "body stream already taken")?;
    for chunk in bytes.chunks(WRITE_CHUNK_BYTES) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(|error| stream_error(&error))?;
    }
    // The stream is a child of the body and must be gone before the body is finished.
    drop(stream);
    Ok(())
}

fn read_response(
    url: &str,
    response: &IncomingResponse,
    limit: usize,
) -> Result<Response, HttpError> {
    let broke_off = |reason: String| HttpError::Body {
        url: url.to_owned(),
        reason,
    };
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let body: IncomingBody = response
        .consume()
        .map_err(|()| broke_off("response body already taken".into()))?;
    let stream: InputStream = body
        .stream()
        .map_err(|()| broke_off("response body stream already taken".into()))?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK_BYTES) {
            Ok(chunk) => {
                if bytes.len() + chunk.len() > limit {
                    return Err(HttpError::ResponseTooLarge {
                        url: url.to_owned(),
                        limit,
                    });
                }
                bytes.extend_from_slice(&chunk);
            }
            Err(StreamError::Closed) => break,
            Err(error) => return Err(broke_off(stream_error(&error))),
        }
    }
    // Child before parent: the stream must go before the body is finished.
    drop(stream);
    // Trailers are not needed; finishing just releases the body.
    drop(IncomingBody::finish(body));
    Ok(Response {
        status,
        headers,
        body: bytes,
        url: url.to_owned(),
    })
}

fn wasi_method(method: &Method) -> WasiMethod {
    match method {
        Method::Get => WasiMethod::Get,
        Method::Head => WasiMethod::Head,
        Method::Post => WasiMethod::Post,
        Method::Put => WasiMethod::Put,
        Method::Patch => WasiMethod::Patch,
        Method::Delete => WasiMethod::Delete,
        Method::Options => WasiMethod::Options,
        Method::Other(name) => WasiMethod::Other(name.clone()),
    }
}

fn header_error(error: &HeaderError) -> &'static str {
    match error {
        HeaderError::InvalidSyntax => "invalid syntax",
        HeaderError::Forbidden => "forbidden by the host",
        HeaderError::Immutable => "headers are immutable",
    }
}

fn stream_error(error: &StreamError) -> String {
    match error {
        StreamError::Closed => "stream closed".into(),
        StreamError::LastOperationFailed(error) => error.to_debug_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_or_post_gets_a_content_length() {
        assert!(needs_content_length(&Request::post("https://h/")));
        assert!(needs_content_length(
            &Request::delete("https://h/").body("x")
        ));
        assert!(!needs_content_length(&Request::get("https://h/")));
    }

    #[test]
    fn caller_content_length_is_kept() {
        let request = Request::post("https://h/").header("Content-Length", "0");
        assert!(!needs_content_length(&request));
    }
}
