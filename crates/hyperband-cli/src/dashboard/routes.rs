//! The dashboard's pages and JSON: `/` (the named study, or the list of studies),
//! `/study/NAME` (the report's page, live), `/api/study/NAME?since=SEQ` (its data when
//! the log has moved past `SEQ`, else 204), `/api/studies` (the names).

use super::live::LiveStudy;
use super::POLL_MS;
use hyperband::storage::{AnyStore, EventStore, StorageUrl};
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use std::collections::HashMap;

/// What a request asks for, decided from its path and query alone.
#[derive(Debug)]
pub enum Route {
    /// `/` when a study was named: to that study's page (this path).
    Redirect(String),
    /// No such page: the path, to say so.
    NotFound(String),
    /// An answer that reads the store.
    Store(Query),
}

/// A page or data that comes from the store.
#[derive(Debug)]
pub enum Query {
    /// `/` without a named study, or `/studies`.
    List,
    /// `/api/studies`
    ApiStudies,
    /// `/study/NAME`
    StudyPage(String),
    /// `/api/study/NAME?since=SEQ`
    StudyData(String, Option<u64>),
}

impl Route {
    /// The route of `path` (percent-encoded, as in the request line) with `query`, where
    /// `default` is the study that `/` opens.
    pub fn of(path: &str, query: Option<&str>, default: Option<&str>) -> Self {
        let since = query
            .unwrap_or("")
            .split('&')
            .find_map(|kv| kv.strip_prefix("since="))
            .and_then(|v| v.parse::<u64>().ok());
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match (segments.as_slice(), default) {
            ([], Some(name)) => Route::Redirect(study_path(name)),
            ([], None) | (["studies"], _) => Route::Store(Query::List),
            (["api", "studies"], _) => Route::Store(Query::ApiStudies),
            (["study", name], _) => Route::Store(Query::StudyPage(name.to_string())),
            (["api", "study", name], _) => Route::Store(Query::StudyData(name.to_string(), since)),
            _ => Route::NotFound(path.to_string()),
        }
    }
}

/// The store and the studies read from it so far.
pub struct Routes {
    store: AnyStore,
    url: StorageUrl,
    studies: HashMap<String, LiveStudy>,
}

/// A reply: status, content type, body.
pub type Reply = (u16, &'static str, String);

pub fn study_path(name: &str) -> String {
    format!("/study/{}", utf8_percent_encode(name, NON_ALPHANUMERIC))
}

fn api_path(name: &str) -> String {
    format!("/api/study/{}", utf8_percent_encode(name, NON_ALPHANUMERIC))
}

pub const HTML: &str = "text/html; charset=utf-8";
pub const JSON: &str = "application/json";
pub const TEXT: &str = "text/plain; charset=utf-8";

impl Routes {
    pub fn new(store: AnyStore, url: StorageUrl) -> Self {
        Self {
            store,
            url,
            studies: HashMap::new(),
        }
    }

    /// Forgets the studies read so far: after a panic while one was being brought up to
    /// date, its replica may be half applied, so each is read again from the log.
    pub fn forget_studies(&mut self) {
        self.studies.clear();
    }

    /// Answers `query`, reading the store (blocking).
    pub fn answer(&mut self, query: &Query) -> Reply {
        match query {
            Query::List => self.list_page(),
            Query::ApiStudies => match self.store.study_names() {
                Ok(names) => (200, JSON, json!(names).to_string()),
                Err(e) => unavailable(&e.into()),
            },
            Query::StudyPage(name) => self.study_page(name),
            Query::StudyData(name, since) => self.study_data(name, *since),
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

/// Text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
