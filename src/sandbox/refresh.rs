//! Rotating refresh tokens, as Lever's and Greenhouse's partner OAuth issue
//! them: a grant has one live refresh token; using it issues the next and
//! the one used is dead from that moment. A token nobody uses for its idle
//! lifetime dies too.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

/// One grant's refresh-token chain.
#[derive(Debug)]
pub struct RefreshToken {
    /// Vendor-looking prefix of every token of this chain (`v1.` for Lever).
    prefix: &'static str,
    token: String,
    last_used: DateTime<Utc>,
    idle_ttl: Duration,
    /// Expired (idle, or by the control API); only a reissue revives the grant.
    dead: bool,
}

impl RefreshToken {
    pub fn issue(prefix: &'static str, idle_ttl: Duration, now: DateTime<Utc>) -> Self {
        RefreshToken {
            prefix,
            token: fresh(prefix),
            last_used: now,
            idle_ttl,
            dead: false,
        }
    }

    /// The live token (the one a client must present next).
    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        !self.dead && !self.idle(now)
    }

    fn idle(&self, now: DateTime<Utc>) -> bool {
        let ttl = chrono::Duration::from_std(self.idle_ttl).unwrap_or(chrono::Duration::MAX);
        now - self.last_used > ttl
    }

    /// Trades `presented` for the next token. `None` when it is not this
    /// chain's live token; an idle one dies on the attempt.
    pub fn rotate(&mut self, presented: &str, now: DateTime<Utc>) -> Option<&str> {
        if self.dead || presented != self.token {
            return None;
        }
        if self.idle(now) {
            self.dead = true;
            return None;
        }
        self.token = fresh(self.prefix);
        self.last_used = now;
        Some(&self.token)
    }

    /// The chain dies (as after its idle lifetime).
    pub fn expire(&mut self) {
        self.dead = true;
    }

    /// The user authorized again: a fresh live token.
    pub fn reissue(&mut self, now: DateTime<Utc>) {
        self.token = fresh(self.prefix);
        self.last_used = now;
        self.dead = false;
    }
}

fn fresh(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_kills_the_used_token_and_idleness_kills_the_chain() {
        let t0 = Utc::now();
        let mut r = RefreshToken::issue("v1.", Duration::from_secs(60), t0);
        let first = r.token().to_string();
        assert!(first.starts_with("v1."));
        let second = r.rotate(&first, t0).map(str::to_string);
        assert!(second.as_deref().is_some_and(|s| s != first));
        assert_eq!(r.rotate(&first, t0), None);
        let second = second.unwrap_or_default();
        assert!(r.is_live(t0 + chrono::Duration::seconds(59)));
        assert_eq!(r.rotate(&second, t0 + chrono::Duration::seconds(61)), None);
        assert!(!r.is_live(t0));
        r.reissue(t0);
        assert!(r.is_live(t0));
        r.expire();
        assert!(!r.is_live(t0));
    }
}
