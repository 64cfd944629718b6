//! The one source of control commands a trainer reads between steps: the lab's channel (a
//! worker in the lab's process) merged with the run folder's control file (anyone else: another
//! lab, `duplab runs pause/resume/stop`). The file is read at most every `CONTROL_POLL`.

use super::Control;
use crate::store::{ControlCommand, ControlReader, Heartbeat, Run};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

/// How often the run folder's control file is read.
pub const CONTROL_POLL: Duration = Duration::from_millis(250);

pub struct ControlSource<'a> {
    channel: &'a Receiver<Control>,
    file: ControlReader,
    checked: Instant,
    /// The run's lease, renewed on its own thread while this trainer owns the run.
    heartbeat: Heartbeat,
    /// Why the run is no longer this trainer's (its folder was deleted, its lease released or
    /// taken; checked with the control file): the trainer must end without writing anything back.
    pub lost: Option<String>,
}

impl<'a> ControlSource<'a> {
    pub fn new(channel: &'a Receiver<Control>, heartbeat: Heartbeat) -> ControlSource<'a> {
        ControlSource {
            channel,
            file: ControlReader::default(),
            checked: Instant::now(),
            heartbeat,
            lost: None,
        }
    }

    /// Why the run is no longer this trainer's, checked now (see `Heartbeat::check`).
    pub fn check_owned(&self) -> Option<String> {
        self.heartbeat.check()
    }

    /// The next command, waiting up to `wait` on the channel. A channel whose sender is gone
    /// means stop (the lab that owned the worker has left).
    pub fn next(&mut self, run: &Run, wait: Duration) -> Option<Control> {
        let from_channel = if wait.is_zero() {
            match self.channel.try_recv() {
                Ok(c) => Some(c),
                Err(TryRecvError::Disconnected) => Some(Control::Stop),
                Err(TryRecvError::Empty) => None,
            }
        } else {
            match self.channel.recv_timeout(wait) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Disconnected) => Some(Control::Stop),
                Err(RecvTimeoutError::Timeout) => None,
            }
        };
        if from_channel.is_some() {
            return from_channel;
        }
        if self.checked.elapsed() < CONTROL_POLL {
            return None;
        }
        self.checked = Instant::now();
        if !run.dir.exists() {
            self.lost = Some(format!("its folder {} was deleted", run.dir.display()));
            return Some(Control::Stop);
        }
        if let Some(why) = self.heartbeat.lost() {
            self.lost = Some(why);
            return Some(Control::Stop);
        }
        self.file.poll(run).map(|c| match c {
            ControlCommand::Pause => Control::Pause,
            ControlCommand::Resume => Control::Resume,
            ControlCommand::Stop => Control::Stop,
        })
    }
}
