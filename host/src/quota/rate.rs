//! Per-project rate limits per HTTP verb: a token bucket per (project, verb) that refills
//! `value` requests per `unit`, as Trove's limiter does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// A configured limit.
#[derive(Debug, Clone)]
pub struct RateLimit {
    /// The HTTP verb it applies to.
    pub verb: String,
    /// Shown in `GET /limits`.
    pub uri: String,
    /// Shown in `GET /limits`.
    pub regex: String,
    /// Requests per unit.
    pub value: u32,
    /// SECOND, MINUTE, HOUR or DAY.
    pub unit: String,
}

impl RateLimit {
    fn period(&self) -> Duration {
        Duration::from_secs(match self.unit.to_ascii_uppercase().as_str() {
            "SECOND" => 1,
            "HOUR" => 3600,
            "DAY" => 86_400,
            _ => 60,
        })
    }
}

/// A limit with what remains of it for a project, for `GET /limits`.
#[derive(Debug, Clone)]
pub struct RateStatus {
    /// The limit.
    pub limit: RateLimit,
    /// Requests still allowed now.
    pub remaining: u32,
    /// When the next request will be allowed.
    pub next_available: SystemTime,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The rate limiter of the process.
pub struct RateLimiter {
    limits: Vec<RateLimit>,
    buckets: Mutex<HashMap<(String, String), Bucket>>,
}

impl RateLimiter {
    /// A limiter enforcing `limits`.
    pub fn new(limits: Vec<RateLimit>) -> RateLimiter {
        RateLimiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn refill(limit: &RateLimit, bucket: &mut Bucket, now: Instant) {
        let rate = f64::from(limit.value) / limit.period().as_secs_f64();
        bucket.tokens = (bucket.tokens + rate * now.duration_since(bucket.updated).as_secs_f64())
            .min(f64::from(limit.value));
        bucket.updated = now;
    }

    /// The limit a verb counts against: its own, or where it has none (Trove's defaults name
    /// four verbs) the one of the verb it acts like — PATCH as PUT, HEAD as GET — so no verb
    /// escapes the limits.
    fn limit_for(&self, verb: &str) -> Option<&RateLimit> {
        let named = |verb: &str| {
            self.limits
                .iter()
                .find(|l| l.verb.eq_ignore_ascii_case(verb))
        };
        named(verb).or_else(|| match verb.to_ascii_uppercase().as_str() {
            "PATCH" => named("PUT"),
            "HEAD" => named("GET"),
            _ => None,
        })
    }

    /// Counts a request; `Err(wait)` when the project has used up the verb's limit.
    pub fn check(&self, project_id: &str, verb: &str) -> Result<(), Duration> {
        let Some(limit) = self.limit_for(verb) else {
            return Ok(());
        };
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap();
        let bucket = buckets
            .entry((project_id.to_string(), limit.verb.to_ascii_uppercase()))
            .or_insert(Bucket {
                tokens: f64::from(limit.value),
                updated: now,
            });
        Self::refill(limit, bucket, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let rate = f64::from(limit.value) / limit.period().as_secs_f64();
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }

    /// Every limit with what remains of it for a project.
    pub fn status(&self, project_id: &str) -> Vec<RateStatus> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap();
        self.limits
            .iter()
            .map(|limit| {
                let (remaining, wait) = match buckets
                    .get_mut(&(project_id.to_string(), limit.verb.to_ascii_uppercase()))
                {
                    Some(bucket) => {
                        Self::refill(limit, bucket, now);
                        let rate = f64::from(limit.value) / limit.period().as_secs_f64();
                        let wait = if bucket.tokens >= 1.0 {
                            0.0
                        } else {
                            (1.0 - bucket.tokens) / rate
                        };
                        (bucket.tokens.floor() as u32, Duration::from_secs_f64(wait))
                    }
                    None => (limit.value, Duration::ZERO),
                };
                RateStatus {
                    limit: limit.clone(),
                    remaining,
                    next_available: SystemTime::now() + wait,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(value: u32) -> RateLimiter {
        RateLimiter::new(vec![RateLimit {
            verb: "POST".into(),
            uri: "*".into(),
            regex: ".*".into(),
            value,
            unit: "MINUTE".into(),
        }])
    }

    #[test]
    fn a_project_gets_its_limit_per_verb_and_no_more() {
        let limiter = limiter(3);
        // Three POSTs pass, the fourth must wait about 20 s (a minute over three requests).
        for _ in 0..3 {
            assert!(limiter.check("p", "POST").is_ok());
        }
        let wait = limiter.check("p", "post").unwrap_err();
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        // Other projects and other verbs are not affected.
        assert!(limiter.check("q", "POST").is_ok());
        assert!(limiter.check("p", "GET").is_ok());
        // The status shows nothing remaining for p.
        assert_eq!(limiter.status("p")[0].remaining, 0);
        assert_eq!(limiter.status("q")[0].remaining, 2);
    }
}
