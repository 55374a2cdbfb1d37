//! Previews fetched lately, per site: a link sent again (or by someone else) reuses its
//! preview, and a site that could not be reached is not asked again for a while. Bounded
//! per site and in sites, so that one busy site cannot push the others out.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use switchboard_core::model::LinkPreview;

/// What the cache knows of a link.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cached {
    /// Its preview.
    Preview(LinkPreview),
    /// It has none (or its site is failing): do not fetch it now.
    Nothing,
}

struct Site {
    /// The site failed (unreachable, timed out) until then.
    failing_until: Option<Instant>,
    /// Links fetched, oldest first, with when they stop counting.
    links: VecDeque<(String, Instant, Option<LinkPreview>)>,
    last_used: Instant,
}

/// The cache; behind a handle.
pub(crate) struct PreviewCache {
    sites: Mutex<HashMap<String, Site>>,
    ttl: Duration,
    per_site: usize,
    max_sites: usize,
}

impl PreviewCache {
    pub(crate) fn new(ttl: Duration, per_site: usize, max_sites: usize) -> Self {
        Self { sites: Mutex::new(HashMap::new()), ttl, per_site: per_site.max(1), max_sites: max_sites.max(1) }
    }

    /// What is known of `url` on `site` now, if anything.
    pub(crate) fn get(&self, site: &str, url: &str, now: Instant) -> Option<Cached> {
        let mut sites = self.sites.lock().expect("preview cache poisoned");
        let s = sites.get_mut(site)?;
        s.last_used = now;
        if s.failing_until.is_some_and(|t| t > now) {
            return Some(Cached::Nothing);
        }
        s.links.retain(|(_, until, _)| *until > now);
        let (_, _, p) = s.links.iter().find(|(u, _, _)| u == url)?;
        Some(p.clone().map_or(Cached::Nothing, Cached::Preview))
    }

    /// Remembers `url`'s preview (or that it has none).
    pub(crate) fn put(&self, site: &str, url: &str, preview: Option<LinkPreview>, now: Instant) {
        let mut sites = self.sites.lock().expect("preview cache poisoned");
        let s = self.site(&mut sites, site, now);
        s.links.retain(|(u, _, _)| u != url);
        if s.links.len() >= self.per_site {
            s.links.pop_front();
        }
        s.links.push_back((url.to_owned(), now + self.ttl, preview));
    }

    /// Remembers that `site` could not be reached.
    pub(crate) fn site_failed(&self, site: &str, now: Instant) {
        let mut sites = self.sites.lock().expect("preview cache poisoned");
        self.site(&mut sites, site, now).failing_until = Some(now + self.ttl);
    }

    fn site<'a>(&self, sites: &'a mut HashMap<String, Site>, site: &str, now: Instant) -> &'a mut Site {
        if !sites.contains_key(site) && sites.len() >= self.max_sites {
            let oldest = sites.iter().min_by_key(|(_, s)| s.last_used).map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                sites.remove(&k);
            }
        }
        let s = sites.entry(site.to_owned()).or_insert_with(|| Site {
            failing_until: None,
            links: VecDeque::new(),
            last_used: now,
        });
        s.last_used = now;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview(url: &str) -> LinkPreview {
        LinkPreview {
            url: url.into(),
            site_name: String::new(),
            title: "t".into(),
            description: String::new(),
            image: None,
        }
    }

    #[test]
    fn links_are_reused_until_they_expire() {
        let c = PreviewCache::new(Duration::from_secs(10), 5, 5);
        let t = Instant::now();
        c.put("a.example", "https://a.example/1", Some(preview("https://a.example/1")), t);
        c.put("a.example", "https://a.example/2", None, t);
        assert_eq!(c.get("a.example", "https://a.example/1", t), Some(Cached::Preview(preview("https://a.example/1"))));
        assert_eq!(c.get("a.example", "https://a.example/2", t), Some(Cached::Nothing));
        assert_eq!(c.get("a.example", "https://a.example/3", t), None);
        assert_eq!(c.get("a.example", "https://a.example/1", t + Duration::from_secs(11)), None);
    }

    #[test]
    fn a_failing_site_is_left_alone_and_sites_are_bounded() {
        let c = PreviewCache::new(Duration::from_secs(10), 2, 2);
        let t = Instant::now();
        c.site_failed("down.example", t);
        assert_eq!(c.get("down.example", "https://down.example/x", t), Some(Cached::Nothing));
        for i in 0..3 {
            c.put("b.example", &format!("https://b.example/{i}"), None, t);
        }
        let later = t + Duration::from_millis(500);
        assert_eq!(c.get("b.example", "https://b.example/0", later), None, "two links per site");
        c.put("c.example", "https://c.example/", None, t + Duration::from_secs(1));
        assert_eq!(c.get("down.example", "https://down.example/x", t), None, "the least recently used site went");
    }
}
