//! Password hashing on a fixed set of worker threads, each with its own argon2 memory.
//!
//! argon2id needs `memory_kib` of scratch memory per hash (19 MiB by default). Hashing on
//! tokio's blocking pool allocated that afresh on up to 512 threads at once, and the
//! allocator kept the freed buffers per thread: a flood of failed logins grew the process
//! by gigabytes. Here `workers` threads each allocate their buffer once and reuse it, so
//! hashing memory is bounded by `workers × memory_kib` whatever the load, and at most
//! `queue` jobs wait; beyond that a caller gets `resource_exhausted` at once.

use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use switchboard_core::values::Password;
use tokio::sync::{OnceCell, mpsc, oneshot};

use crate::config::{Argon2Params, PasswordHashing};
use crate::{ServiceError, ServiceResult};

/// What a worker is asked to do.
enum Job {
    Hash { password: Password, reply: oneshot::Sender<ServiceResult<String>> },
    Verify { password: String, phc: String, reply: oneshot::Sender<ServiceResult<bool>> },
}

/// The hashing workers. They stop when the last handle is dropped.
pub(crate) struct Passwords {
    jobs: mpsc::Sender<Job>,
    /// A hash of a random password, checked for unknown usernames so that a login takes
    /// the same time whether or not the account exists.
    dummy: OnceCell<String>,
}

impl Passwords {
    /// Starts `config.workers` threads hashing with `params`.
    pub(crate) fn start(params: Argon2Params, config: PasswordHashing) -> ServiceResult<Self> {
        Params::new(params.memory_kib, params.iterations, params.parallelism, None).map_err(|e| {
            ServiceError::new(switchboard_core::ErrorCode::InvalidArgument, format!("service.argon2 is invalid: {e}"))
        })?;
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..config.workers() {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || worker(params, &rx))
                .map_err(|e| ServiceError::internal(format!("start password hashing thread: {e}")))?;
        }
        Ok(Self { jobs: tx, dummy: OnceCell::new() })
    }

    fn submit(&self, job: Job) -> ServiceResult<()> {
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => {
                metrics::counter!("switchboard_password_hash_rejected_total").increment(1);
                ServiceError::exhausted("the server is busy checking passwords; try again shortly", 1000)
                    .because("hashing_busy")
            }
            mpsc::error::TrySendError::Closed(_) => ServiceError::internal("password hashing threads stopped"),
        })
    }

    /// Hashes a new password into a PHC string.
    pub(crate) async fn hash(&self, password: Password) -> ServiceResult<String> {
        let (reply, rx) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        rx.await.map_err(|_| ServiceError::internal("password hashing thread ended"))?
    }

    /// Checks `password` against a stored PHC string.
    pub(crate) async fn verify(&self, password: &str, phc: String) -> ServiceResult<bool> {
        metrics::counter!("switchboard_password_checks_total").increment(1);
        let (reply, rx) = oneshot::channel();
        self.submit(Job::Verify { password: password.to_owned(), phc, reply })?;
        rx.await.map_err(|_| ServiceError::internal("password hashing thread ended"))?
    }

    /// Spends the time of a real check on a password of no account; always false.
    pub(crate) async fn verify_dummy(&self, password: &str) -> ServiceResult<bool> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async {
                let mut random = [0u8; 24];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
                let secret = Password::parse(&hex(&random))?;
                self.hash(secret).await
            })
            .await?;
        self.verify(password, dummy.clone()).await?;
        Ok(false)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn argon2(p: Argon2Params) -> ServiceResult<Argon2<'static>> {
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None)
        .map_err(|e| ServiceError::internal(format!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Runs jobs until every sender is gone, reusing one memory buffer.
fn worker(params: Argon2Params, jobs: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory: Vec<Block> = Vec::new();
    let configured = Params::new(params.memory_kib, params.iterations, params.parallelism, None)
        .map(|p| p.block_count())
        .unwrap_or(0);
    loop {
        let job = {
            let mut rx = jobs.lock().unwrap_or_else(|e| e.into_inner());
            rx.blocking_recv()
        };
        match job {
            None => return,
            Some(Job::Hash { password, reply }) => {
                let _ = reply.send(hash_with(params, &password, &mut memory));
            }
            Some(Job::Verify { password, phc, reply }) => {
                let _ = reply.send(verify_with(&password, &phc, &mut memory));
            }
        }
        // A stored hash with a larger cost than today's grew the buffer; give that back.
        if memory.len() > configured {
            memory.truncate(configured);
            memory.shrink_to_fit();
        }
    }
}

fn blocks(memory: &mut Vec<Block>, count: usize) -> &mut [Block] {
    if memory.len() < count {
        memory.resize(count, Block::default());
    }
    &mut memory[..count]
}

fn hash_with(p: Argon2Params, password: &Password, memory: &mut Vec<Block>) -> ServiceResult<String> {
    let argon = argon2(p)?;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.decode_b64(&mut salt_bytes).map_err(|e| ServiceError::internal(format!("salt: {e}")))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let count = argon.params().block_count();
    argon
        .hash_password_into_with_memory(password.expose().as_bytes(), salt_raw, &mut out, blocks(memory, count))
        .map_err(|e| ServiceError::internal(format!("argon2 hash: {e}")))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(|e| ServiceError::internal(format!("params: {e}")))?,
        salt: Some(Salt::from(&salt)),
        hash: Some(Output::new(&out).map_err(|e| ServiceError::internal(format!("output: {e}")))?),
    };
    Ok(phc.to_string())
}

fn verify_with(password: &str, phc: &str, memory: &mut Vec<Block>) -> ServiceResult<bool> {
    let stored = |e: &dyn std::fmt::Display| ServiceError::internal(format!("stored password hash: {e}"));
    let parsed = PasswordHash::new(phc).map_err(|e| stored(&e))?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| stored(&e))?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(|e| stored(&e))?.unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| stored(&e))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(stored(&"no salt or hash"));
    };
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.decode_b64(&mut salt_bytes).map_err(|e| stored(&e))?;
    let count = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    argon
        .hash_password_into_with_memory(password.as_bytes(), salt_raw, &mut out, blocks(memory, count))
        .map_err(|e| stored(&e))?;
    // Output's equality is constant-time.
    Ok(Output::new(&out).map_err(|e| stored(&e))? == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2Params {
        Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 }
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let p = Passwords::start(cheap(), PasswordHashing { workers: 1, queue: 4 }).unwrap();
        let hash = p.hash(Password::parse("correct horse").unwrap()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(p.verify("correct horse", hash.clone()).await.unwrap());
        assert!(!p.verify("wrong horse", hash).await.unwrap());
        assert!(!p.verify_dummy("anything").await.unwrap());
    }

    #[tokio::test]
    async fn hashes_made_by_the_argon2_crate_still_verify() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let old = argon2(Argon2Params { memory_kib: 128, iterations: 2, parallelism: 1 })
            .unwrap()
            .hash_password(b"old secret", &salt)
            .unwrap()
            .to_string();
        let p = Passwords::start(cheap(), PasswordHashing { workers: 1, queue: 4 }).unwrap();
        assert!(p.verify("old secret", old.clone()).await.unwrap());
        assert!(!p.verify("new secret", old).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once() {
        let slow = Argon2Params { memory_kib: 8 * 1024, iterations: 8, parallelism: 1 };
        let p = Passwords::start(slow, PasswordHashing { workers: 1, queue: 1 }).unwrap();
        let refused = (0..10)
            .filter_map(|_| p.submit_probe().err())
            .inspect(|e| assert_eq!(e.code, switchboard_core::ErrorCode::ResourceExhausted))
            .count();
        assert!(refused >= 5, "one worker and a queue of one take at most two of ten slow jobs; {refused} refused");
    }

    impl Passwords {
        /// Queues a hash job without waiting for it (tests of the queue bound).
        fn submit_probe(&self) -> ServiceResult<()> {
            let (reply, _rx) = oneshot::channel();
            self.submit(Job::Hash { password: Password::parse("probe-pw").unwrap(), reply })
        }
    }
}
