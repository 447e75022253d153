//! Accounts, passwords and sessions of the workbench.
//!
//! Accounts live in `warehouse/users.json` (name, role, Argon2id hash in PHC form),
//! replaced atomically (a synced temporary file renamed over it, as the manifest is).
//! Sessions are kept beside the accounts in `sessions.json` (the SHA-256 of each
//! cookie token, never the token; the account, role, CSRF token and when it was
//! last used), so restarting the server signs nobody out. Each session has a random
//! token (the cookie) and its own CSRF token, which every form carries and every
//! POST must return; a session idle longer than the timeout is gone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("accounts file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("accounts file {path} is damaged: {message}")]
    Damaged { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
}

/// What an account may see and do (docs/rules.md § Masking: personal numbers reach
/// only those whose work needs them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Aggregates only: dashboard and the report package without lists.
    Leader,
    /// The monthly package, lists masked.
    Statistician,
    /// Findings and personal data.
    Auditor,
    /// Accounts and the operator log.
    Admin,
}

pub const ROLES: &[Role] = &[Role::Leader, Role::Statistician, Role::Auditor, Role::Admin];

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Statistician => "statistician",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Role::Leader => "领导",
            Role::Statistician => "统计员",
            Role::Auditor => "稽核员",
            Role::Admin => "系统管理员",
        }
    }

    pub fn parse(s: &str) -> Result<Role, AuthError> {
        ROLES
            .iter()
            .copied()
            .find(|r| r.name() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                AuthError::Usage(format!(
                    "role `{s}` is not one of leader, statistician, auditor, admin"
                ))
            })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// Argon2id, PHC string (algorithm, parameters, salt and hash together).
    pub hash: String,
    pub created_at: String,
    pub created_by: String,
}

pub const USERS_FILE: &str = "users.json";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AuthError + '_ {
    move |source| AuthError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The warehouse's accounts file.
pub fn users_file(warehouse: &Path) -> PathBuf {
    warehouse.join(USERS_FILE)
}

/// Every account of the warehouse, by name.
pub fn load_users(warehouse: &Path) -> Result<Vec<User>, AuthError> {
    load_users_from(&users_file(warehouse))
}

/// Every account of an accounts file (none when it does not exist).
pub fn load_users_from(path: &Path) -> Result<Vec<User>, AuthError> {
    let path = path.to_path_buf();
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| AuthError::Damaged {
            path,
            message: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io(&path)(e)),
    }
}

fn save_users(path: &Path, users: &[User]) -> Result<(), AuthError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let name = path
        .file_name()
        .map_or("users.json".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.tmp"));
    let bytes = serde_json::to_vec_pretty(users).map_err(|e| AuthError::Usage(e.to_string()))?;
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io(path))
}

pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let mut bytes = [0u8; 16];
    random(&mut bytes)
        .map_err(|e| AuthError::Usage(format!("no random numbers from the system: {e}")))?;
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| AuthError::Usage(format!("cannot encode the salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Usage(format!("cannot hash the password: {e}")))
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Adds an account to the warehouse, or replaces the password and role of an
/// existing one.
pub fn add_user(
    warehouse: &Path,
    name: &str,
    role: Role,
    password: &str,
    by: &str,
) -> Result<bool, AuthError> {
    add_user_to(&users_file(warehouse), name, role, password, by)
}

/// Adds an account to an accounts file (created when missing), or replaces one.
pub fn add_user_to(
    file: &Path,
    name: &str,
    role: Role,
    password: &str,
    by: &str,
) -> Result<bool, AuthError> {
    let name = name.trim();
    if name.is_empty() || name.chars().any(|c| c.is_control() || c == '/') {
        return Err(AuthError::Usage(format!(
            "`{name}` cannot be an account name"
        )));
    }
    if password.chars().count() < 8 {
        return Err(AuthError::Usage(
            "the password must have at least 8 characters".into(),
        ));
    }
    let mut users = load_users_from(file)?;
    let user = User {
        name: name.to_string(),
        role,
        hash: hash_password(password)?,
        created_at: chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        created_by: by.to_string(),
    };
    let existed = match users.iter_mut().find(|u| u.name == name) {
        Some(u) => {
            *u = user;
            true
        }
        None => {
            users.push(user);
            false
        }
    };
    save_users(file, &users)?;
    Ok(existed)
}

/// The account if the password is right. A missing account still pays for one
/// hash, so timing does not tell which names exist.
pub fn check_sign_in(
    accounts: &Path,
    name: &str,
    password: &str,
) -> Result<Option<User>, AuthError> {
    let users = load_users_from(accounts)?;
    match users.into_iter().find(|u| u.name == name.trim()) {
        Some(u) if verify_password(&u.hash, password) => Ok(Some(u)),
        Some(_) => Ok(None),
        None => {
            let _ = hash_password(password);
            Ok(None)
        }
    }
}

/// Bytes from the kernel's random source (the project runs on Linux; a crate for
/// this would change the features of crates polars shares, and rebuild it).
fn random(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

/// A random token of 32 bytes, as hex.
pub fn token() -> String {
    let mut b = [0u8; 32];
    // Without the system's random numbers there is no safe session: stop here.
    random(&mut b).expect("the operating system's random number source (/dev/urandom)");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub user: String,
    pub role: Role,
    pub csrf: String,
    /// The end of the session's last request (wall clock: it outlives a restart).
    last_seen: SystemTime,
}

impl Session {
    fn idle_for(&self) -> Duration {
        self.last_seen.elapsed().unwrap_or_default()
    }
}

/// A session as its file keeps it: the SHA-256 of the cookie token, never the token
/// itself, so the file signs nobody in.
#[derive(Serialize, Deserialize)]
struct Kept {
    id: String,
    #[serde(flatten)]
    session: Session,
}

pub const SESSIONS_FILE: &str = "sessions.json";

/// How stale the file's idle clocks may be: a request rewrites the file only when
/// its session's last save is older than this, so a busy server writes it about
/// once a minute per user, and a restart may end a session up to this much early.
const SAVE_EVERY: Duration = Duration::from_secs(60);

fn hashed(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The signed-in sessions, by the hash of their cookie token; kept in a file beside
/// the accounts (`sessions.json`) so that restarting the server signs nobody out.
pub struct Sessions {
    idle: Duration,
    file: Option<PathBuf>,
    map: std::sync::Mutex<SessionMap>,
}

#[derive(Default)]
struct SessionMap {
    live: HashMap<String, Session>,
    /// When each session was last written to the file.
    saved: HashMap<String, SystemTime>,
}

impl Sessions {
    /// Sessions held in memory only.
    pub fn new(idle: Duration) -> Sessions {
        Sessions {
            idle,
            file: None,
            map: std::sync::Mutex::new(SessionMap::default()),
        }
    }

    /// Sessions kept in `file`: those still live (not idle longer than `idle`) and
    /// whose account still has the same role (`keep`) are signed in again.
    pub fn kept_in(
        file: &Path,
        idle: Duration,
        keep: impl Fn(&Session) -> bool,
    ) -> Result<Sessions, AuthError> {
        let kept: Vec<Kept> = match std::fs::read(file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| AuthError::Damaged {
                path: file.to_path_buf(),
                message: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(file)(e)),
        };
        let now = SystemTime::now();
        let mut map = SessionMap::default();
        for k in kept {
            if k.session.idle_for() < idle && keep(&k.session) {
                map.saved.insert(k.id.clone(), now);
                map.live.insert(k.id, k.session);
            }
        }
        let sessions = Sessions {
            idle,
            file: Some(file.to_path_buf()),
            map: std::sync::Mutex::new(map),
        };
        sessions.save(&mut sessions.lock())?;
        Ok(sessions)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SessionMap> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the live sessions to the file (atomically, readable by the owner only).
    fn save(&self, map: &mut SessionMap) -> Result<(), AuthError> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let now = SystemTime::now();
        let kept: Vec<Kept> = map
            .live
            .iter()
            .map(|(id, s)| Kept {
                id: id.clone(),
                session: s.clone(),
            })
            .collect();
        let bytes =
            serde_json::to_vec_pretty(&kept).map_err(|e| AuthError::Usage(e.to_string()))?;
        write_private(path, &bytes)?;
        map.saved = map.live.keys().map(|id| (id.clone(), now)).collect();
        Ok(())
    }

    /// A new session for the account: its cookie token and the session.
    pub fn start(&self, user: &User) -> Result<(String, Session), AuthError> {
        let session = Session {
            user: user.name.clone(),
            role: user.role,
            csrf: token(),
            last_seen: SystemTime::now(),
        };
        let t = token();
        let mut map = self.lock();
        let idle = self.idle;
        map.live.retain(|_, s| s.idle_for() < idle);
        map.live.insert(hashed(&t), session.clone());
        self.save(&mut map)?;
        Ok((t, session))
    }

    /// The live session of a token (its idle clock restarted), or None when unknown
    /// or expired (an expired one is removed).
    pub fn touch(&self, token: &str) -> Option<Session> {
        let id = hashed(token);
        let mut map = self.lock();
        let s = map.live.get_mut(&id)?;
        if s.idle_for() >= self.idle {
            map.live.remove(&id);
            let _ = self.save(&mut map);
            return None;
        }
        s.last_seen = SystemTime::now();
        Some(s.clone())
    }

    /// Restarts the idle clock of a live session at the end of its request (a slow
    /// page is activity, not idleness); the file is brought up to date when its
    /// copy is older than a minute.
    pub fn refresh(&self, token: &str) {
        let id = hashed(token);
        let mut map = self.lock();
        let Some(s) = map.live.get_mut(&id) else {
            return;
        };
        s.last_seen = SystemTime::now();
        let stale = map
            .saved
            .get(&id)
            .is_none_or(|t| t.elapsed().unwrap_or_default() >= SAVE_EVERY);
        if stale {
            // A failed save costs at most a sign-in after a restart.
            let _ = self.save(&mut map);
        }
    }

    pub fn end(&self, token: &str) {
        let mut map = self.lock();
        if map.live.remove(&hashed(token)).is_some() {
            let _ = self.save(&mut map);
        }
    }
}

/// Replaces `path` with `bytes` through a synced temporary file, readable and
/// writable by the owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AuthError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let name = path
        .file_name()
        .map_or("sessions.json".into(), |n| n.to_string_lossy());
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Constant-time comparison of two tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
