//! Accounts, tokens and sessions.
//!
//! Tokens are 32 random bytes, base64url-encoded with a prefix that says what they are;
//! only their sha256 is stored. Passwords are hashed with argon2id on the hashing threads
//! of [`crate::passwords`]. Register, Login and Refresh are limited per client address, and
//! failed logins per account; an unknown username costs the same hash as a known one.

use std::net::IpAddr;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use switchboard_core::event::SessionEndReason;
use switchboard_core::model::{Session, User};
use switchboard_core::values::{DeviceName, DisplayName, Password, Platform, Username};
use switchboard_core::{ErrorCode, SessionId, UserId};
use switchboard_store::{NewSession, NewUser, Rotation};

use crate::config::RegistrationMode;
use crate::{Actor, Principal, ServiceError, ServiceResult, Services};

/// The device a session is for, as the client describes it.
#[derive(Debug, Clone, Default)]
pub struct DeviceInfo {
    /// Name.
    pub name: String,
    /// Platform.
    pub platform: String,
}

/// An issued token pair.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Access token.
    pub access_token: String,
    /// Access expiry.
    pub access_expires_at_ms: i64,
    /// Refresh token.
    pub refresh_token: String,
    /// The session.
    pub session_id: SessionId,
}

/// A user with a new session.
#[derive(Debug, Clone)]
pub struct AuthOutcome {
    /// The account.
    pub user: User,
    /// Its tokens.
    pub tokens: Tokens,
}

fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The key of a client address in the per-address limit: IPv6 clients usually hold a
/// whole /64, so that is what counts as one address.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

fn bad_credentials() -> ServiceError {
    ServiceError::unauthenticated("wrong username or password")
}

impl Services {
    /// A new session; a sign-in (`login`) is announced to the user's other sessions and,
    /// on a platform of `service.one_session_per_platform`, replaces the older ones there.
    async fn new_session(
        &self,
        user_id: UserId,
        device: DeviceInfo,
        ttl_ms: i64,
        login: bool,
    ) -> ServiceResult<Tokens> {
        let name = DeviceName::parse(&device.name)?;
        let platform = Platform::parse(&device.platform)?;
        let (access, refresh) = (random_token("sba_"), random_token("sbr_"));
        let now = self.now_ms();
        let platform = platform.into_string();
        let replace_same_platform = login && self.config().one_session_per_platform.contains(&platform);
        let created = self
            .store()
            .create_session(NewSession {
                user_id,
                device_name: name.into_string(),
                platform,
                access_hash: token_hash(&access),
                access_expires_at_ms: now.saturating_add(ttl_ms),
                refresh_hash: token_hash(&refresh),
                replace_same_platform,
                announce: login,
                now_ms: now,
            })
            .await?;
        for ev in created.events {
            self.publish_user(ev);
        }
        let session = created.session;
        Ok(Tokens {
            access_token: access,
            access_expires_at_ms: session.access_expires_at_ms,
            refresh_token: refresh,
            session_id: session.id,
        })
    }

    fn access_ttl_ms(&self) -> i64 {
        self.config().access_token_ttl_secs.saturating_mul(1000) as i64
    }

    /// Creates an account (person or bot) without a session; used by registration and the
    /// admin CLI.
    pub async fn create_account(
        &self,
        username: &str,
        password: Option<&str>,
        display_name: &str,
        admin: bool,
        bot: bool,
        invite_code: Option<&str>,
    ) -> ServiceResult<User> {
        let username = Username::parse(username)?;
        let display = DisplayName::parse(display_name)?;
        let hash = match password {
            Some(p) => Some(self.inner.passwords.hash(Password::parse(p)?).await?),
            None => None,
        };
        let user = self
            .store()
            .create_user(NewUser {
                username_canonical: username.canonical(),
                username: username.as_str().to_owned(),
                display_name: display.into_string(),
                password_hash: hash,
                bot,
                admin,
                invite_hash: invite_code.map(token_hash),
                now_ms: self.now_ms(),
            })
            .await?;
        tracing::info!(user_id = %user.id, bot, admin, "account created");
        Ok(user)
    }

    /// Registers an account and opens its first session.
    pub async fn register(
        &self,
        username: &str,
        password: &str,
        display_name: &str,
        invite_code: &str,
        device: DeviceInfo,
        from: Option<IpAddr>,
    ) -> ServiceResult<AuthOutcome> {
        self.charge_address(from)?;
        let invite = match self.config().registration {
            RegistrationMode::Open => None,
            RegistrationMode::Closed => {
                return Err(ServiceError::denied("registration is closed on this server"));
            }
            RegistrationMode::InviteCode if invite_code.is_empty() => {
                return Err(ServiceError::invalid("invite_code", "this server needs an invite code to register"));
            }
            RegistrationMode::InviteCode => Some(invite_code),
        };
        let user = self.create_account(username, Some(password), display_name, false, false, invite).await?;
        let tokens = self.new_session(user.id, device, self.access_ttl_ms(), false).await?;
        Ok(AuthOutcome { user, tokens })
    }

    /// Takes one call of Register, Login or Refresh from the client address's bucket.
    fn charge_address(&self, from: Option<IpAddr>) -> ServiceResult<()> {
        let Some(ip) = from else { return Ok(()) };
        self.inner.address_limiter.check(address_key(ip)).map_err(|wait| {
            metrics::counter!("switchboard_auth_rate_limited_total", "limit" => "address").increment(1);
            ServiceError::exhausted("too many sign-in attempts from this address; try again later", wait)
                .because("sign_in_limited")
        })
    }

    /// Logs in with username and password.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        device: DeviceInfo,
        from: Option<IpAddr>,
    ) -> ServiceResult<AuthOutcome> {
        self.charge_address(from)?;
        // A name that could not be registered has no account: nothing to look up or hash.
        let Ok(name) = Username::parse(username) else {
            return Err(bad_credentials());
        };
        let canonical = name.canonical();
        self.inner.failed_logins.peek(canonical.clone()).map_err(|wait| {
            metrics::counter!("switchboard_auth_rate_limited_total", "limit" => "account").increment(1);
            ServiceError::exhausted("too many failed sign-ins to this account; try again later", wait)
                .because("account_locked")
        })?;
        let found = self.store().user_with_password(&canonical).await?;
        let (user, ok) = match found {
            Some((user, Some(hash))) => {
                let ok = self.inner.passwords.verify(password, hash).await?;
                (Some(user), ok)
            }
            // Unknown names and accounts without a password take as long as a wrong password.
            _ => (None, self.inner.passwords.verify_dummy(password).await?),
        };
        let Some(user) = user.filter(|_| ok) else {
            metrics::counter!("switchboard_failed_logins_total").increment(1);
            let _ = self.inner.failed_logins.check(canonical);
            return Err(bad_credentials());
        };
        if user.disabled {
            return Err(ServiceError::denied("this account is disabled"));
        }
        let tokens = self.new_session(user.id, device, self.access_ttl_ms(), true).await?;
        Ok(AuthOutcome { user, tokens })
    }

    /// Rotates a session's tokens. Presenting a refresh token that was already rotated
    /// away means it leaked (or a client replayed it): the session is ended.
    pub async fn refresh(&self, refresh_token: &str, from: Option<IpAddr>) -> ServiceResult<Tokens> {
        self.charge_address(from)?;
        let (access, refresh) = (random_token("sba_"), random_token("sbr_"));
        let expires = self.now_ms().saturating_add(self.access_ttl_ms());
        let rotation = self
            .store()
            .rotate_tokens(
                &token_hash(refresh_token),
                token_hash(&access),
                expires,
                token_hash(&refresh),
                self.now_ms(),
            )
            .await?;
        match rotation {
            Rotation::Rotated(session) => Ok(Tokens {
                access_token: access,
                access_expires_at_ms: expires,
                refresh_token: refresh,
                session_id: session.id,
            }),
            Rotation::Reused(session) => {
                tracing::warn!(user_id = %session.user_id, session_id = %session.id, "a rotated refresh token was presented again; ending the session");
                metrics::counter!("switchboard_refresh_token_reuse_total").increment(1);
                self.end_sessions(session.user_id, Some(session.id), None, SessionEndReason::RefreshTokenReused)
                    .await?;
                Err(ServiceError::unauthenticated("this refresh token was already used; the session has been ended"))
            }
            Rotation::Unknown => Err(ServiceError::unauthenticated("unknown or already used refresh token")),
        }
    }

    /// Resolves an access token to the caller and takes a token from their rate bucket.
    pub async fn authenticate(&self, access_token: &str) -> ServiceResult<Principal> {
        let p = self.resolve_token(access_token).await?;
        self.charge(&p)?;
        Ok(p)
    }

    /// Takes one request from the caller's rate bucket.
    pub fn charge(&self, p: &Principal) -> ServiceResult<()> {
        self.inner.limiter.check(p.user_id).map_err(|wait| {
            metrics::counter!("switchboard_rate_limited_total").increment(1);
            ServiceError::exhausted("too many requests", wait).because("rate_limited")
        })
    }

    /// Resolves an access token without charging the rate limit (connection set-up).
    pub async fn resolve_token(&self, access_token: &str) -> ServiceResult<Principal> {
        if access_token.is_empty() {
            return Err(ServiceError::unauthenticated("missing access token"));
        }
        let (session, disabled) = self
            .store()
            .session_by_access(&token_hash(access_token), self.now_ms())
            .await?
            .ok_or_else(|| ServiceError::unauthenticated("invalid or expired access token"))?;
        if disabled {
            return Err(ServiceError::unauthenticated("this account is disabled"));
        }
        let user =
            self.store().user(session.user_id).await?.ok_or_else(|| ServiceError::unauthenticated("unknown user"))?;
        Ok(Principal {
            user_id: user.id,
            session_id: session.id,
            bot: user.bot,
            admin: user.admin,
            access_expires_at_ms: session.access_expires_at_ms,
        })
    }

    /// Ends sessions of `user`: `only` one, or all but `except`; tells every device and
    /// closes the ended sessions' connections.
    async fn end_sessions(
        &self,
        user: UserId,
        only: Option<SessionId>,
        except: Option<SessionId>,
        reason: SessionEndReason,
    ) -> ServiceResult<u32> {
        // One transaction: a session is never gone without its event, nor the reverse.
        let events = self.store().end_sessions(user, only, except, reason, self.now_ms()).await?;
        let n = events.len() as u32;
        for ev in events {
            self.publish_user(ev);
        }
        Ok(n)
    }

    /// Ends the calling session.
    pub async fn logout(&self, p: &Principal) -> ServiceResult<()> {
        self.end_sessions(p.user_id, Some(p.session_id), None, SessionEndReason::LoggedOut).await.map(|_| ())
    }

    /// Changes the password after checking the old one; ends every other session.
    pub async fn change_password(&self, p: &Principal, old: &str, new: &str) -> ServiceResult<()> {
        let new = Password::parse(new)?;
        let user = self.store().user(p.user_id).await?.ok_or_else(|| ServiceError::not_found("user"))?;
        let Some((_, Some(hash))) = self.store().user_with_password(&user.username.to_ascii_lowercase()).await? else {
            return Err(ServiceError::precondition("this account has no password").because("no_password"));
        };
        if !self.inner.passwords.verify(old, hash).await? {
            return Err(ServiceError::denied("the old password is wrong"));
        }
        self.store().set_password_hash(p.user_id, self.inner.passwords.hash(new).await?).await?;
        self.end_sessions(p.user_id, None, Some(p.session_id), SessionEndReason::PasswordChanged).await?;
        Ok(())
    }

    /// Deletes the caller's account after checking its password; every session ends, the
    /// profile is erased, the messages stay. Those who share a conversation hear of it.
    pub async fn delete_account(&self, p: &Principal, password: &str) -> ServiceResult<()> {
        let user = self.store().user(p.user_id).await?.ok_or_else(|| ServiceError::not_found("user"))?;
        let Some((_, Some(hash))) = self.store().user_with_password(&user.username.to_ascii_lowercase()).await? else {
            return Err(ServiceError::precondition("this account has no password").because("no_password"));
        };
        if !self.inner.passwords.verify(password, hash).await? {
            return Err(ServiceError::denied("the password is wrong"));
        }
        let (user, ended) = self.store().delete_account(p.user_id, self.now_ms()).await?;
        tracing::info!(user = %p.user_id, "account deleted by its owner");
        for ev in ended {
            self.publish_user(ev);
        }
        self.publish_profile(&user).await;
        Ok(())
    }

    /// Sets a password without the old one (admin CLI); ends every session.
    pub async fn set_password(&self, user: UserId, new: &str) -> ServiceResult<()> {
        let hash = self.inner.passwords.hash(Password::parse(new)?).await?;
        self.store().set_password_hash(user, hash).await?;
        self.end_sessions(user, None, None, SessionEndReason::PasswordChanged).await?;
        Ok(())
    }

    /// The caller's sessions, newest first.
    pub async fn list_sessions(&self, p: &Principal) -> ServiceResult<Vec<Session>> {
        Ok(self.store().sessions(p.user_id).await?)
    }

    /// Ends one of the caller's sessions.
    pub async fn end_session(&self, p: &Principal, session: SessionId) -> ServiceResult<()> {
        let reason =
            if session == p.session_id { SessionEndReason::LoggedOut } else { SessionEndReason::EndedElsewhere };
        match self.end_sessions(p.user_id, Some(session), None, reason).await? {
            0 => Err(ServiceError::not_found("session")),
            _ => Ok(()),
        }
    }

    /// Ends every session of the caller but the calling one.
    pub async fn end_other_sessions(&self, p: &Principal) -> ServiceResult<u32> {
        self.end_sessions(p.user_id, None, Some(p.session_id), SessionEndReason::EndedElsewhere).await
    }

    pub(crate) fn require_admin(p: &Principal) -> ServiceResult<()> {
        if p.admin { Ok(()) } else { Err(ServiceError::denied("this needs a server administrator")) }
    }

    /// Creates a registration invite code (admins).
    pub async fn create_registration_invite(
        &self,
        p: &Principal,
        max_uses: u32,
        valid_for_secs: u64,
    ) -> ServiceResult<(String, i64)> {
        Self::require_admin(p)?;
        if max_uses == 0 {
            return Err(ServiceError::invalid("max_uses", "must be at least 1"));
        }
        let secs = if valid_for_secs == 0 { 7 * 24 * 3600 } else { valid_for_secs.min(365 * 24 * 3600) };
        let code = random_token("sbi_");
        let expires = self.now_ms() + (secs * 1000) as i64;
        self.store().create_registration_invite(token_hash(&code), max_uses, expires).await?;
        Ok((code, expires))
    }

    /// Creates a bot account and its long-lived token (admins).
    pub async fn create_bot(&self, p: &Principal, username: &str, display_name: &str) -> ServiceResult<(User, String)> {
        Self::require_admin(p)?;
        let user = self.create_account(username, None, display_name, false, true, None).await?;
        let device = DeviceInfo { name: "bot".into(), platform: "bot".into() };
        let tokens = self.new_session(user.id, device, i64::MAX / 4, false).await?;
        Ok((user, tokens.access_token))
    }

    /// Disables or re-enables an account (a server administrator, or the operator through
    /// the CLI); disabling ends every session.
    pub async fn set_user_disabled(&self, actor: Actor<'_>, user: UserId, disabled: bool) -> ServiceResult<User> {
        match actor {
            Actor::User(p) => Self::require_admin(p)?,
            Actor::Operator => {}
        }
        let u = self.store().set_user_flags(user, Some(disabled), None).await?;
        if disabled {
            self.end_sessions(user, None, None, SessionEndReason::AccountDisabled).await?;
        }
        Ok(u)
    }

    /// Lists accounts by id (admin CLI).
    pub async fn list_users(&self, after: Option<UserId>, limit: u32) -> ServiceResult<Vec<User>> {
        Ok(self.store().list_users(after, limit.clamp(1, 1000)).await?)
    }

    /// Finds an account by username (admin CLI).
    pub async fn user_by_username(&self, username: &str) -> ServiceResult<User> {
        self.store()
            .user_with_password(&username.to_ascii_lowercase())
            .await?
            .map(|(u, _)| u)
            .ok_or_else(|| ServiceError::new(ErrorCode::NotFound, format!("no user named {username:?}")))
    }

    /// Records that a session was used (connection set-up).
    pub async fn touch_session(&self, p: &Principal) -> ServiceResult<()> {
        Ok(self.store().touch_session(p.session_id, self.now_ms()).await?)
    }
}
