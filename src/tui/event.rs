//! Terminal events on their own thread, into one channel; the main loop redraws only when the
//! state says something changed, at most ~30 times a second.

use super::{App, Msg, draw};
use crossterm::event::{self, Event, KeyEventKind};
use ratatui::DefaultTerminal;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

pub fn spawn() -> Receiver<Msg> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        loop {
            let msg = match event::poll(Duration::from_millis(250)) {
                Ok(true) => match event::read() {
                    Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => Msg::Key(k),
                    Ok(Event::Resize(..)) => Msg::Resize,
                    Ok(_) => continue,
                    Err(_) => return,
                },
                Ok(false) => Msg::Tick,
                Err(_) => return,
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
    rx
}

pub fn main_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    rx: Receiver<Msg>,
) -> std::io::Result<()> {
    terminal.draw(|f| draw(f, app))?;
    while !app.quit {
        let mut dirty = false;
        match rx.recv_timeout(Duration::from_millis(33)) {
            Ok(m) => dirty |= app.update(m),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        // Drain whatever else queued up, then draw once.
        while let Ok(m) = rx.try_recv() {
            dirty |= app.update(m);
        }
        if dirty && !app.quit {
            terminal.draw(|f| draw(f, app))?;
        }
    }
    Ok(())
}
