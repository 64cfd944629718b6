//! A run's lease: who trains it (host, pid, the process's start time, the machine's boot id, the
//! Slurm job), an owner epoch, and a heartbeat counter the trainer renews every few seconds.
//!
//! Liveness is judged where it can be known:
//! - on the owner's host, directly: the process must exist, not be a zombie, and have the start
//!   time the lease recorded (a reused pid does not), on the same boot;
//! - from another host (a shared store on a cluster), by the heartbeat: a lease whose counter has
//!   not moved for [`lease_expiry`] (2 minutes by default) is expired. Age is measured against the
//!   file system's own clock (the modification time of a file this reader just wrote into the
//!   store), and a long-lived reader also watches the counter on its monotonic clock, so clock
//!   skew between hosts cannot make a live trainer look dead or a dead one look alive.
//!
//! Taking a run (`--resume`, `--prepared`, a sweep retaking a point) needs its owner to be gone,
//! then an atomic `mkdir` of `owners/<epoch + 1>`: of two takers only one creates it. A trainer
//! whose lease shows a later epoch (someone released or took the run) stops without writing.
//! `flock` is never used: NFS, Lustre and BeeGFS emulate or ignore it.

use super::error::{StoreError, io};
use super::layout;
use super::run::Run;
use crate::atomic::Durability;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

/// Who trains a run, as its `lease` file (or an older run's `pid` file) says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    /// Raised by every change of owner; a trainer that sees a later epoch has lost the run.
    pub epoch: u64,
    /// Empty in `pid` files written before hosts were recorded.
    pub host: String,
    pub pid: u32,
    /// The process's start time in clock ticks since boot (`/proc/PID/stat`, field 22).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    /// `/proc/sys/kernel/random/boot_id`: a pid of an earlier boot is not this boot's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot: Option<String>,
    /// The Slurm job (`JOBID` or `ARRAYJOBID_TASKID`) the trainer runs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The owner's pid namespace (`/proc/PID/ns/pid`): a container sharing this host's name
    /// but not its processes is judged by its heartbeat, not by `/proc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pidns: Option<String>,
    /// How often the owner renews the lease, in seconds: a reader waits at least four of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_s: Option<f64>,
    /// The heartbeat counter.
    #[serde(default)]
    pub beat: u64,
    /// Released by hand (`duplab runs release`): nobody owns the run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub released: bool,
    /// Its trainer ended (finished, stopped, failed) and gave the run up.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ended: bool,
    /// Read from a `pid` file of an older version (no heartbeat to judge by).
    #[serde(skip)]
    pub legacy: bool,
}

/// Whether a lease's owner may still train its run, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    Live,
    Gone(String),
}

impl Liveness {
    pub fn is_live(&self) -> bool {
        matches!(self, Liveness::Live)
    }
}

/// How long a heartbeat may stand still before a lease from another host is expired: 2 minutes,
/// or `DUPLAB_LEASE_EXPIRY_S` seconds (tests shorten it).
pub fn lease_expiry() -> Duration {
    std::env::var("DUPLAB_LEASE_EXPIRY_S")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(Duration::from_secs(120), Duration::from_secs_f64)
}

/// How often a trainer renews its lease: every 5 s, and at least 4 times within the expiry.
pub fn heartbeat_interval() -> Duration {
    Duration::from_secs(5).min(lease_expiry() / 4)
}

impl Lease {
    /// This process, on this machine, in `epoch`.
    pub fn this_process(epoch: u64) -> Lease {
        Lease::local(std::process::id(), epoch)
    }

    /// A process of this machine (a trainer a launcher just started).
    pub fn local(pid: u32, epoch: u64) -> Lease {
        let l = Lease {
            epoch,
            host: hostname(),
            pid,
            start: process_start(pid),
            boot: boot_id(),
            job: if pid == std::process::id() {
                slurm_job()
            } else {
                None
            },
            pidns: None,
            every_s: None,
            beat: 0,
            released: false,
            ended: false,
            legacy: false,
        };
        Lease {
            pidns: pid_namespace(pid),
            every_s: Some(heartbeat_interval().as_secs_f64()),
            ..l
        }
    }

    /// An older run's `pid` file (`PID HOST`), `None` when it names no process id.
    pub fn parse_pid_file(text: &str) -> Option<Lease> {
        let mut parts = text.split_whitespace();
        let pid = parts.next()?.parse().ok()?;
        let host = parts.next().unwrap_or("").to_string();
        Some(Lease {
            epoch: 0,
            host,
            pid,
            start: None,
            boot: None,
            job: None,
            pidns: None,
            every_s: None,
            beat: 0,
            released: false,
            ended: false,
            legacy: true,
        })
    }

    /// Whether the owner runs on this machine (or the file does not say).
    pub fn is_here(&self) -> bool {
        self.host.is_empty() || self.host == hostname()
    }

    /// Whether the owner runs on this very machine and can be judged from `/proc`: the same
    /// host name, boot and pid namespace (where the lease records them). Another machine or a
    /// container that happens to share the host name is judged by its heartbeat instead.
    pub fn same_machine(&self) -> bool {
        let same = |recorded: &Option<String>, now: Option<String>| {
            recorded.as_ref().is_none_or(|r| Some(r) == now.as_ref())
        };
        self.is_here()
            && same(&self.boot, boot_id())
            && same(&self.pidns, pid_namespace(std::process::id()))
    }

    /// How long a still heartbeat makes this lease expired: the reader's expiry, and at least
    /// four of the owner's heartbeats.
    fn expiry(&self) -> Duration {
        let beats = self
            .every_s
            .filter(|s| s.is_finite() && *s > 0.0 && *s < 3600.0)
            .map_or(Duration::ZERO, |s| Duration::from_secs_f64(s * 4.0));
        lease_expiry().max(beats)
    }

    /// Whether the lease names this very process.
    pub fn is_this_process(&self) -> bool {
        !self.released
            && self.same_machine()
            && self.pid == std::process::id()
            && self
                .start
                .is_none_or(|s| Some(s) == process_start(self.pid))
    }

    /// "process 123 on node7 (Slurm job 77_3)", for refusals.
    pub fn describe(&self) -> String {
        if self.released {
            return "nobody (released)".into();
        }
        let host = if self.host.is_empty() {
            "this machine"
        } else {
            &self.host
        };
        let job = self
            .job
            .as_ref()
            .map(|j| format!(" (Slurm job {j})"))
            .unwrap_or_default();
        format!("process {} on {host}{job}", self.pid)
    }

    /// Whether the owner may still train: see the module's comment. `file` is the lease file,
    /// whose age (by the store's clock) and counter (by this process's watch) judge a lease from
    /// another host.
    pub fn liveness(&self, file: &Path) -> Liveness {
        if self.released {
            return Liveness::Gone("released by hand".into());
        }
        if self.ended {
            return Liveness::Gone(format!("{} ended and gave the run up", self.describe()));
        }
        if self.same_machine() {
            if !process_alive(self.pid) {
                return Liveness::Gone(format!("{} has ended", self.describe()));
            }
            if let Some(s) = self.start
                && process_start(self.pid).is_some_and(|now| now != s)
            {
                return Liveness::Gone(format!(
                    "{} has ended (its pid now names another process)",
                    self.describe()
                ));
            }
            return Liveness::Live;
        }
        if self.legacy {
            // An older version's pid file on another host: no heartbeat to judge by.
            return Liveness::Live;
        }
        let expiry = self.expiry();
        match watch(
            file,
            &format!(
                "{} {} {} {:?} {}",
                self.epoch, self.host, self.pid, self.start, self.beat
            ),
        ) {
            Watch::Moved => return Liveness::Live,
            Watch::Still(for_) if for_ >= expiry => {
                return Liveness::Gone(format!(
                    "{}: no heartbeat for {:.0} s",
                    self.describe(),
                    for_.as_secs_f64()
                ));
            }
            Watch::Still(_) => {}
        }
        let root = file
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("."));
        match file_age(file, root) {
            Some(age) if age >= expiry => Liveness::Gone(format!(
                "{}: no heartbeat for {:.0} s",
                self.describe(),
                age.as_secs_f64()
            )),
            _ => Liveness::Live,
        }
    }
}

enum Watch {
    /// The counter moved since this process last looked (or it looks for the first time).
    Moved,
    /// The counter has stood still for this long, by this process's monotonic clock.
    Still(Duration),
}

/// What this process has seen of each lease file's counter: (counter, when it was first seen).
fn watch(file: &Path, beat: &str) -> Watch {
    static SEEN: OnceLock<Mutex<HashMap<PathBuf, (String, Instant)>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    match seen.get(file) {
        Some((b, since)) if b == beat => Watch::Still(since.elapsed()),
        Some(_) => {
            seen.insert(file.to_path_buf(), (beat.to_string(), Instant::now()));
            Watch::Moved
        }
        None => {
            seen.insert(file.to_path_buf(), (beat.to_string(), Instant::now()));
            // Never seen before: no evidence either way; the file's age decides.
            Watch::Still(Duration::ZERO)
        }
    }
}

/// How long ago `file` was last replaced, by the clock of the file system that holds it (on a
/// shared store, the file server's): a probe file written into the same folder gives "now".
/// `root`: the store (one probe serves every run in it).
fn file_age(file: &Path, root: &Path) -> Option<Duration> {
    let modified = std::fs::metadata(file).ok()?.modified().ok()?;
    let now = store_now(root);
    Some(now.duration_since(modified).unwrap_or(Duration::ZERO))
}

/// "Now" by the file system's clock under `root`: this host's clock plus the offset a probe file
/// showed (re-measured every 30 s; this host's clock when the store is read-only).
fn store_now(root: &Path) -> SystemTime {
    static OFFSETS: OnceLock<Mutex<HashMap<PathBuf, (Instant, i128)>>> = OnceLock::new();
    let mut offsets = OFFSETS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let fresh = offsets
        .get(root)
        .filter(|(at, _)| at.elapsed() < Duration::from_secs(30))
        .map(|(_, o)| *o);
    let offset = fresh.unwrap_or_else(|| {
        let o = probe_offset(root).unwrap_or(0);
        offsets.insert(root.to_path_buf(), (Instant::now(), o));
        o
    });
    let now = SystemTime::now();
    if offset >= 0 {
        now + Duration::from_nanos(offset as u64)
    } else {
        now - Duration::from_nanos((-offset) as u64)
    }
}

/// The file system's clock minus this host's, in nanoseconds.
fn probe_offset(root: &Path) -> Option<i128> {
    let probe = crate::atomic::temp_path(&root.join(".clock"));
    let before = SystemTime::now();
    std::fs::write(&probe, b"").ok()?;
    let stamped = std::fs::metadata(&probe).and_then(|m| m.modified());
    let _ = std::fs::remove_file(&probe);
    let ns = |t: SystemTime| -> i128 {
        match t.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        }
    };
    Some(ns(stamped.ok()?) - ns(before))
}

impl Run {
    fn lease_path(&self) -> PathBuf {
        self.dir.join(layout::LEASE)
    }

    /// The lease, or an older run's `pid` file read as one.
    pub fn lease(&self) -> Option<Lease> {
        self.read_lease().ok().flatten()
    }

    /// The lease; `Err` when it exists but cannot be read now (a network file system's
    /// transient error), which is not the same as no owner.
    fn read_lease(&self) -> Result<Option<Lease>, ()> {
        match crate::atomic::read_small(&self.lease_path(), super::run::SMALL_FILE) {
            Ok(bytes) => {
                return serde_json::from_slice(&bytes[..bytes.len().min(4096)])
                    .map(Some)
                    .map_err(|_| ());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => return Err(()),
        }
        match crate::atomic::read_small(&self.dir.join(layout::OWNER), super::run::SMALL_FILE) {
            Ok(text) => Ok(Lease::parse_pid_file(&String::from_utf8_lossy(&text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(_) => Err(()),
        }
    }

    /// Whether the run's owner may still train it (no lease: nobody does; a lease that cannot
    /// be read now: assumed live, so nobody takes a run on a transient error).
    pub fn liveness(&self) -> Liveness {
        match self.read_lease() {
            Ok(Some(l)) => l.liveness(&self.lease_path()),
            Ok(None) => Liveness::Gone("no owner recorded".into()),
            Err(()) => Liveness::Live,
        }
    }

    pub(crate) fn owner_alive(&self) -> bool {
        self.liveness().is_live()
    }

    /// The trainer's process id, when it runs on this machine and is alive.
    pub fn owner_pid(&self) -> Option<u32> {
        self.lease()
            .filter(|l| l.is_here() && !l.released && self.owner_alive())
            .map(|l| l.pid)
    }

    fn write_lease(&self, l: &Lease) -> Result<(), StoreError> {
        let text = serde_json::to_string(l).expect("a lease serialises");
        self.replace(layout::LEASE, text.as_bytes(), Durability::Rename)
    }

    /// Create `owners/<epoch>`: `Ok(false)` when another process created it first.
    fn claim_epoch(&self, epoch: u64) -> Result<bool, StoreError> {
        let owners = self.dir.join(layout::OWNERS);
        std::fs::create_dir_all(&owners).map_err(io(&owners))?;
        let dir = owners.join(format!("{epoch:08}"));
        match std::fs::create_dir(&dir) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(StoreError::Io(dir, e)),
        }
    }

    /// The epoch after the newest one: the lease's, or a later `owners/` folder's (a taker that
    /// created its folder and died before writing the lease still used up its epoch).
    /// Refused while that later folder is younger than the lease expiry: another taker is
    /// between its `mkdir` and its lease, and judging the old lease was its business.
    fn next_epoch(&self, current: Option<&Lease>) -> Result<u64, StoreError> {
        let owners = self.dir.join(layout::OWNERS);
        let on_disk = std::fs::read_dir(&owners)
            .map(|rd| {
                rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        let leased = current.map_or(0, |l| l.epoch);
        if on_disk > leased {
            let taking = owners.join(format!("{on_disk:08}"));
            let root = self.dir.parent().unwrap_or(&self.dir);
            let fresh = file_age(&taking, root).is_none_or(|a| a < lease_expiry());
            if fresh {
                return Err(StoreError::Owned {
                    id: self.id.clone(),
                    owner: "another process that is taking it right now".into(),
                });
            }
        }
        Ok(leased.max(on_disk) + 1)
    }

    /// The first lease of a folder this process has just created (exclusively).
    pub(crate) fn first_lease(&self) -> Result<(), StoreError> {
        self.claim_epoch(1)?;
        self.write_lease(&Lease::this_process(1))
    }

    /// Take the run for this process: refused while its owner lives (naming it), and exclusive
    /// among takers (one `mkdir` of the next epoch wins). A lease that already names this process
    /// (a launcher handed the folder to it) is adopted. Returns the epoch to renew.
    pub fn take_lease(&self) -> Result<u64, StoreError> {
        let current = self.lease();
        if let Some(l) = &current {
            // A lease naming this process, or its parent (a launcher that prepared the folder and
            // started this trainer, and has not yet written the hand-over), is adopted.
            let from_parent = !l.released
                && l.is_here()
                && l.pid == std::os::unix::process::parent_id()
                && l.liveness(&self.lease_path()).is_live();
            // A trainer of this very process (a lab's worker) already renews it: a second one
            // would write the same files.
            if l.is_this_process() && beating().contains(&self.dir) {
                return Err(StoreError::Owned {
                    id: self.id.clone(),
                    owner: format!("{} (another trainer of this process)", l.describe()),
                });
            }
            if l.is_this_process() || from_parent {
                let mine = Lease {
                    job: slurm_job(),
                    ..Lease::this_process(l.epoch)
                };
                self.write_lease(&mine)?;
                return Ok(l.epoch);
            }
            // A Slurm task requeued onto another node is the same job: its earlier run is gone.
            let own_job = l.job.is_some() && l.job == slurm_job() && !l.is_here();
            if !own_job && l.liveness(&self.lease_path()).is_live() {
                return Err(StoreError::Owned {
                    id: self.id.clone(),
                    owner: l.describe(),
                });
            }
            // Expired by its age alone, on another machine: before taking it, watch its counter
            // for three of its heartbeats on this process's own clock, so that a file time
            // stamped by a skewed clock cannot hand a live run to a second trainer.
            if !own_job && !l.same_machine() && !l.released && !l.ended && !l.legacy {
                let every = l
                    .every_s
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .map_or(Duration::from_secs(5), Duration::from_secs_f64)
                    .min(Duration::from_secs(30));
                let until = Instant::now() + every * 3 + Duration::from_millis(200);
                while Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(100).min(every));
                    if self.lease().as_ref() != Some(l) {
                        return Err(StoreError::Owned {
                            id: self.id.clone(),
                            owner: format!("{} (its heartbeat moved)", l.describe()),
                        });
                    }
                }
            }
        }
        let epoch = self.next_epoch(current.as_ref())?;
        if !self.claim_epoch(epoch)? {
            return Err(StoreError::Owned {
                id: self.id.clone(),
                owner: "another process that took it at the same moment".into(),
            });
        }
        self.write_lease(&Lease::this_process(epoch))?;
        Ok(epoch)
    }

    /// Hand the run to another process of this machine (a trainer the lab just started), in the
    /// current epoch: the launcher owns the folder it prepared, so this is not a take.
    pub fn set_owner(&self, pid: u32) -> Result<(), StoreError> {
        let epoch = self.lease().map_or(1, |l| l.epoch);
        self.write_lease(&Lease::local(pid, epoch))
    }

    /// Give up the run by hand (`duplab runs release`): refused while the owner lives unless
    /// `force`; a later epoch is written, so a trainer that still lives (on a host that lost the
    /// store, say) stops at its next heartbeat without writing; the run reads as interrupted and
    /// can be resumed. Returns the lease it replaced.
    pub fn release_lease(&self, force: bool) -> Result<Option<Lease>, StoreError> {
        let current = self.lease();
        if let Some(l) = &current
            && !force
            && l.liveness(&self.lease_path()).is_live()
        {
            return Err(StoreError::Owned {
                id: self.id.clone(),
                owner: format!(
                    "{} (release it anyway with: duplab runs release {} --force)",
                    l.describe(),
                    self.id
                ),
            });
        }
        let epoch = self.next_epoch(current.as_ref())?;
        if !self.claim_epoch(epoch)? {
            return Err(StoreError::Owned {
                id: self.id.clone(),
                owner: "another process that took it at the same moment".into(),
            });
        }
        let released = Lease {
            epoch,
            host: String::new(),
            pid: 0,
            start: None,
            boot: None,
            // The job that trained it last stays listed.
            job: current.as_ref().and_then(|l| l.job.clone()),
            pidns: None,
            every_s: None,
            beat: 0,
            released: true,
            ended: false,
            legacy: false,
        };
        self.write_lease(&released)?;
        let on_disk = self
            .read_text(layout::STATUS)
            .ok()
            .flatten()
            .and_then(|s| super::RunStatus::parse(&s));
        if on_disk.is_some_and(|s| s.is_live()) {
            self.set_status(super::RunStatus::Interrupted)?;
        }
        Ok(current)
    }

    /// Renew this process's lease of `epoch` every [`heartbeat_interval`] on a thread of its own
    /// (so long evaluations and data loading keep it fresh too), until the returned heartbeat is
    /// dropped or the run is lost.
    pub fn start_heartbeat(&self, epoch: u64) -> Heartbeat {
        self.start_heartbeat_every(epoch, heartbeat_interval())
    }

    pub fn start_heartbeat_every(&self, epoch: u64, every: Duration) -> Heartbeat {
        beating().insert(self.dir.clone());
        let lost = Arc::new(Mutex::new(None::<String>));
        let stop = Arc::new(AtomicBool::new(false));
        let (run, lost2, stop2) = (self.clone(), lost.clone(), stop.clone());
        let handle = std::thread::Builder::new()
            .name("lease".into())
            .spawn(move || {
                let tick = Duration::from_millis(50);
                let mut next = Instant::now() + every;
                while !stop2.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    if Instant::now() < next {
                        continue;
                    }
                    next = Instant::now() + every;
                    if let Some(why) = run.renew(epoch) {
                        *lost2.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
                        break;
                    }
                }
            })
            .ok();
        Heartbeat {
            lost,
            stop,
            handle,
            run: self.clone(),
            epoch,
        }
    }

    /// One heartbeat: `Some(why)` when the run is no longer this process's. The `owners/`
    /// folder of the next epoch is the authority (whoever created it took the run), so a lease
    /// file overwritten by a beat that raced a taker is put right by the taker's next beat.
    fn renew(&self, epoch: u64) -> Option<String> {
        if !self.dir.exists() {
            return Some(format!("its folder {} was deleted", self.dir.display()));
        }
        let Ok(lease) = self.read_lease() else {
            // Unreadable now (a transient error of a network file system): try next beat.
            return None;
        };
        let taken = self
            .dir
            .join(layout::OWNERS)
            .join(format!("{:08}", epoch + 1))
            .exists();
        match lease {
            Some(l) if l.epoch > epoch || taken => Some(if l.released {
                "its lease was released by hand".into()
            } else if l.epoch > epoch {
                format!("it was taken by {}", l.describe())
            } else {
                // The next epoch exists, its lease not written yet.
                "it was released or taken by another process".into()
            }),
            None => Some("its lease file was removed".into()),
            Some(l) => {
                let next = Lease {
                    beat: l.beat.wrapping_add(1),
                    ..Lease::this_process(epoch)
                };
                // A failed write (a full or unreachable store) is not a lost run: retried next beat.
                let _ = self.write_lease(&next);
                None
            }
        }
    }
}

/// A trainer's running heartbeat; dropping it stops the renewals.
pub struct Heartbeat {
    lost: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
    run: Run,
    epoch: u64,
}

/// The run folders this process's heartbeats renew: a second trainer of the same process may
/// not take one of them.
fn beating() -> std::sync::MutexGuard<'static, std::collections::HashSet<PathBuf>> {
    static BEATING: OnceLock<Mutex<std::collections::HashSet<PathBuf>>> = OnceLock::new();
    BEATING
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

impl Heartbeat {
    /// Why the run is no longer this trainer's (released, taken, deleted), if it is not.
    pub fn lost(&self) -> Option<String> {
        self.lost.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Check now, not at the next beat, that the run is still this trainer's: before it writes
    /// a checkpoint, the summary or the final status.
    pub fn check(&self) -> Option<String> {
        if let Some(why) = self.lost() {
            return Some(why);
        }
        let fenced = self
            .run
            .dir
            .join(layout::OWNERS)
            .join(format!("{:08}", self.epoch + 1))
            .exists();
        if !self.run.dir.exists() {
            Some(format!("its folder {} was deleted", self.run.dir.display()))
        } else if fenced {
            Some("it was released or taken by another process".into())
        } else {
            None
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        beating().remove(&self.run.dir);
        // The trainer ends (finished, stopped, failed): it gives the run up at once, so another
        // host can resume it without waiting for the lease to expire. A run it lost is not its
        // to give up.
        if self.lost().is_none()
            && let Ok(Some(l)) = self.run.read_lease()
            && l.epoch == self.epoch
            && l.is_this_process()
            && self.run.dir.exists()
        {
            let _ = self.run.write_lease(&Lease { ended: true, ..l });
        }
    }
}

/// Whether a process of this machine is alive. A zombie (exited, not yet reaped by its parent)
/// still has a `/proc` entry but trains nothing: its state letter is `Z`.
pub(crate) fn process_alive(pid: u32) -> bool {
    stat_fields(pid).is_some_and(|f| f.first().is_some_and(|s| s != "Z" && s != "X"))
}

/// A process's start time in clock ticks since boot.
pub(crate) fn process_start(pid: u32) -> Option<u64> {
    // Fields after the command: state is field 3, starttime field 22 → index 19.
    stat_fields(pid)?.get(19)?.parse().ok()
}

/// `/proc/PID/stat` after the command name (which is in parentheses and may hold spaces).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(String::from).collect())
}

/// A process's pid namespace, as `/proc/PID/ns/pid` names it (`pid:[4026531836]`).
fn pid_namespace(pid: u32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid"))
        .ok()
        .map(|p| p.display().to_string())
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The Slurm job this process runs in: `ARRAYJOB_TASK` for an array task, else the job id.
pub fn slurm_job() -> Option<String> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID")) {
        (Some(a), Some(t)) => Some(format!("{a}_{t}")),
        _ => var("SLURM_JOB_ID"),
    }
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::{RunStatus, RunStore};
    use super::*;

    /// Make `path` look last written `ago` ago.
    fn stamp(path: &Path, ago: Duration) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(SystemTime::now() - ago)
            .unwrap();
    }

    fn store() -> (tempfile::TempDir, RunStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        (dir, store)
    }

    #[test]
    fn a_pid_file_parses_with_or_without_its_host() {
        let l = Lease::parse_pid_file("42 node7\n").unwrap();
        assert_eq!((l.pid, l.host.as_str(), l.legacy), (42, "node7", true));
        assert_eq!(
            Lease::parse_pid_file("42").map(|o| o.host),
            Some(String::new())
        );
        assert_eq!(Lease::parse_pid_file(""), None);
        assert_eq!(Lease::parse_pid_file("x node7"), None);
        let me = Lease::this_process(1);
        assert!(me.is_here() && me.is_this_process());
        assert!(me.start.is_some(), "this process's start time is read");
    }

    /// Case 2 of the ownership issue: a lease naming another host counted as alive forever.
    /// Its heartbeat standing still past the expiry makes it interrupted.
    #[test]
    fn a_lease_from_another_host_without_heartbeat_expires() {
        let (_d, store) = store();
        let run = store.create_with_id("20260101-000000-x-aaaaaa").unwrap();
        let foreign = Lease {
            host: "node-that-died".into(),
            pid: 1,
            every_s: Some(0.05),
            ..Lease::this_process(1)
        };
        run.write_lease(&foreign).unwrap();
        assert_eq!(run.status(), RunStatus::Running, "fresh: live");
        // Two minutes later by the file system's clock.
        stamp(&run.lease_path(), lease_expiry() + Duration::from_secs(1));
        assert_eq!(run.status(), RunStatus::Interrupted);
        assert!(matches!(run.liveness(), Liveness::Gone(w) if w.contains("node-that-died")));
        // Once taken, it is this process's and live again.
        assert_eq!(run.take_lease().unwrap(), 2);
        assert!(run.owner_alive());
    }

    /// A heartbeat that moves keeps a foreign lease live whatever its file's time says.
    #[test]
    fn a_moving_heartbeat_keeps_a_foreign_lease_live() {
        let (_d, store) = store();
        let run = store.create_with_id("20260101-000000-x-bbbbbb").unwrap();
        let mut foreign = Lease {
            host: "far-node".into(),
            ..Lease::this_process(1)
        };
        run.write_lease(&foreign).unwrap();
        let set_old = || stamp(&run.lease_path(), lease_expiry() * 2);
        set_old();
        assert!(!run.owner_alive(), "no movement seen, and old: expired");
        foreign.beat += 1;
        run.write_lease(&foreign).unwrap();
        set_old();
        assert!(
            run.owner_alive(),
            "the counter moved while this reader watched"
        );
    }

    /// A pid reused by another process on the same host is not the trainer.
    #[test]
    fn a_reused_pid_is_not_the_owner() {
        let (_d, store) = store();
        let run = store.create_with_id("20260101-000000-x-cccccc").unwrap();
        assert!(run.owner_alive());
        let reused = Lease {
            start: Some(process_start(std::process::id()).unwrap() + 12345),
            ..Lease::this_process(1)
        };
        run.write_lease(&reused).unwrap();
        assert_eq!(run.status(), RunStatus::Interrupted);
        // Another boot (or another machine of the same name): judged by its heartbeat, which
        // stood still since before the restart.
        let rebooted = Lease {
            boot: Some("another-boot".into()),
            ..Lease::this_process(1)
        };
        run.write_lease(&rebooted).unwrap();
        assert_eq!(
            run.status(),
            RunStatus::Running,
            "fresh: it may be alive elsewhere"
        );
        stamp(&run.lease_path(), lease_expiry() + Duration::from_secs(1));
        assert_eq!(run.status(), RunStatus::Interrupted);
    }

    #[test]
    fn a_live_owner_is_refused_and_takers_race_for_one_epoch() {
        let (_d, store) = store();
        let run = store.create_with_id("20260101-000000-x-dddddd").unwrap();
        // Another live process of this host owns it.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        run.set_owner(child.id()).unwrap();
        let e = run.take_lease().unwrap_err().to_string();
        assert!(e.contains(&format!("process {}", child.id())), "{e}");
        child.kill().unwrap();
        child.wait().unwrap();
        // Gone: taken in the next epoch, which only one taker can create.
        assert_eq!(run.take_lease().unwrap(), 2);
        let wins: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| s.spawn(|| run.claim_epoch(3).unwrap()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap() as usize).sum()
        });
        assert_eq!(wins, 1, "an epoch is created once");
    }

    #[test]
    fn release_fences_the_heartbeat_and_interrupts_the_run() {
        let (_d, store) = store();
        let run = store.create_with_id("20260101-000000-x-eeeeee").unwrap();
        let epoch = run.take_lease().unwrap();
        let every = Duration::from_millis(50);
        let hb = run.start_heartbeat_every(epoch, every);
        let t = Instant::now();
        while run.lease().unwrap().beat == 0 && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(every);
        }
        assert!(run.lease().unwrap().beat >= 1, "the heartbeat moves");
        let e = run.release_lease(false).unwrap_err().to_string();
        assert!(e.contains("--force"), "{e}");
        let before = run.release_lease(true).unwrap().unwrap();
        assert_eq!(before.pid, std::process::id());
        assert_eq!(run.status(), RunStatus::Interrupted);
        let t = Instant::now();
        while hb.lost().is_none() && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            hb.lost().is_some_and(|w| w.contains("released")),
            "{:?}",
            hb.lost()
        );
        assert!(
            run.lease().unwrap().released,
            "the fenced trainer wrote nothing back"
        );
    }
}
