//! The dashboard's pages and JSON: `/` (the named study, or the list of studies),
//! `/study/NAME` (the report's page, live), `/api/study/NAME?since=SEQ` (its data when
//! the log has moved past `SEQ`, else 204), `/api/studies` (the names).

use super::live::LiveStudy;
use super::POLL_MS;
use hyperband::storage::{AnyStore, EventStore, StorageUrl};
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use std::collections::HashMap;
use tiny_http::{Header, Method, Request, Response};

pub struct Routes {
    store: AnyStore,
    url: StorageUrl,
    /// The study `/` opens; without one, `/` lists the store's studies.
    default: Option<String>,
    studies: HashMap<String, LiveStudy>,
}

/// A reply: status, content type, body.
type Reply = (u16, &'static str, String);

pub fn study_path(name: &str) -> String {
    format!("/study/{}", utf8_percent_encode(name, NON_ALPHANUMERIC))
}

fn api_path(name: &str) -> String {
    format!("/api/study/{}", utf8_percent_encode(name, NON_ALPHANUMERIC))
}

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";

impl Routes {
    pub fn new(store: AnyStore, url: StorageUrl, default: Option<String>) -> Self {
        Self {
            store,
            url,
            default,
            studies: HashMap::new(),
        }
    }

    /// Answers one request; a browser that went away meanwhile is no error of ours.
    pub fn answer(&mut self, request: Request) {
        let (status, kind, body) = match request.method() {
            Method::Get | Method::Head => self.get(request.url()),
            _ => (405, TEXT, "the dashboard only reads\n".to_string()),
        };
        let mut response = Response::from_string(body)
            .with_status_code(status)
            .with_header(header("Content-Type", kind))
            .with_header(header("Cache-Control", "no-store"));
        if status == 302 {
            let to = self.default.as_deref().map(study_path).unwrap_or_default();
            response = response.with_header(header("Location", &to));
        }
        let _ = request.respond(response);
    }

    fn get(&mut self, target: &str) -> Reply {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let since = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("since="))
            .and_then(|v| v.parse::<u64>().ok());
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match segments.as_slice() {
            [] if self.default.is_some() => (302, TEXT, String::new()),
            [] | ["studies"] => self.list_page(),
            ["api", "studies"] => match self.store.study_names() {
                Ok(names) => (200, JSON, json!(names).to_string()),
                Err(e) => unavailable(&e.into()),
            },
            ["study", name] => self.study_page(name),
            ["api", "study", name] => self.study_data(name, since),
            _ => (404, TEXT, format!("no page {path}\n")),
        }
    }

    /// The study's data now, with its event number.
    fn data(&mut self, name: &str) -> anyhow::Result<(u64, &Value)> {
        if !self.studies.contains_key(name) {
            let study = LiveStudy::open(&mut self.store, name)?;
            self.studies.insert(name.to_string(), study);
        }
        let study = self.studies.get_mut(name).expect("just opened");
        study.refresh(&mut self.store, &self.url)
    }

    fn study_page(&mut self, name: &str) -> Reply {
        match self.data(name) {
            Ok((seq, data)) => {
                let live = json!({"url": api_path(name), "interval_ms": POLL_MS, "seq": seq});
                (200, HTML, crate::report::page(data, &live))
            }
            Err(e) => unavailable(&e),
        }
    }

    fn study_data(&mut self, name: &str, since: Option<u64>) -> Reply {
        match self.data(name) {
            Ok((seq, _)) if since == Some(seq) => (204, JSON, String::new()),
            Ok((seq, data)) => (200, JSON, json!({"seq": seq, "data": data}).to_string()),
            Err(e) => unavailable(&e),
        }
    }

    fn list_page(&mut self) -> Reply {
        let names = match self.store.study_names() {
            Ok(names) => names,
            Err(e) => return unavailable(&e.into()),
        };
        let items: String = names
            .iter()
            .map(|n| {
                format!(
                    "<li><a class=\"study\" href=\"{}\">{}</a></li>\n",
                    study_path(n),
                    escape(n)
                )
            })
            .collect();
        let body = if names.is_empty() {
            "<p>No study in this store yet.</p>".to_string()
        } else {
            format!("<ul id=\"studies\">\n{items}</ul>")
        };
        let page = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>hyperband dashboard</title>\
             <style>body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 800px; }}</style>\
             </head><body><h1>Studies in {}</h1>\n{body}\n</body></html>\n",
            escape(&self.url.redacted())
        );
        (200, HTML, page)
    }
}

/// The store could not be read (or the study not found): said in the page that polls.
fn unavailable(e: &anyhow::Error) -> Reply {
    let status = match e.downcast_ref::<hyperband::storage::StorageError>() {
        Some(hyperband::storage::StorageError::NoSuchStudy(_)) => 404,
        _ => 503,
    };
    (status, TEXT, format!("{e:#}\n"))
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

/// Text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
