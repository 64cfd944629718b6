//! `duplab data get mnist|fashion-mnist|cifar10`: the paper's data sets into the user data folder
//! (where every command looks for them), as torchvision's `download=True` does, but verified:
//! each file against the SHA-256 the project ships (the sets it keeps copies of) or the
//! publisher's MD5 (CIFAR-10's binary archive, from its page). A download goes to `FILE.part`,
//! resumes from there with an HTTP range request when the connection drops (or on the next
//! call), and becomes `FILE` only once its checksum matches: a failure leaves no file that looks
//! whole. CIFAR-10's archive is unpacked into a hidden folder and renamed into place.

use anyhow::{Context, Result, anyhow, bail};
use md5::Md5;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GetSet {
    Mnist,
    FashionMnist,
    Cifar10,
}

/// What a file must hash to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sum {
    Sha256(&'static str),
    Md5(&'static str),
}

/// One file of a set: its name, and the checksum it must have.
#[derive(Debug, Clone, Copy)]
pub struct Remote {
    pub file: &'static str,
    pub sum: Sum,
}

/// A set: the folder it goes into (under the data folder), where it comes from, its files, and
/// whether the one file is a `.tar.gz` to unpack (into `folder`).
pub struct Catalog {
    pub folder: &'static str,
    pub base_url: &'static str,
    /// Who publishes the checksums, for the user.
    pub source: &'static str,
    pub files: &'static [Remote],
    pub archive: bool,
}

const IDX: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

pub fn catalog(set: GetSet) -> Catalog {
    match set {
        // SHA-256 of the files the project's data folder keeps (its SHA256SUMS).
        GetSet::Mnist => Catalog {
            folder: "mnist",
            base_url: "https://ossci-datasets.s3.amazonaws.com/mnist/",
            source: "SHA-256 shipped with duplab (the original files of LeCun et al., torchvision's mirror)",
            files: &[
                Remote {
                    file: IDX[0],
                    sum: Sum::Sha256(
                        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                    ),
                },
                Remote {
                    file: IDX[1],
                    sum: Sum::Sha256(
                        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                    ),
                },
                Remote {
                    file: IDX[2],
                    sum: Sum::Sha256(
                        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                    ),
                },
                Remote {
                    file: IDX[3],
                    sum: Sum::Sha256(
                        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                    ),
                },
            ],
            archive: false,
        },
        GetSet::FashionMnist => Catalog {
            folder: "fashion-mnist",
            base_url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            source: "SHA-256 shipped with duplab (Zalando Research's files)",
            files: &[
                Remote {
                    file: IDX[0],
                    sum: Sum::Sha256(
                        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                    ),
                },
                Remote {
                    file: IDX[1],
                    sum: Sum::Sha256(
                        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                    ),
                },
                Remote {
                    file: IDX[2],
                    sum: Sum::Sha256(
                        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                    ),
                },
                Remote {
                    file: IDX[3],
                    sum: Sum::Sha256(
                        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                    ),
                },
            ],
            archive: false,
        },
        GetSet::Cifar10 => Catalog {
            folder: "cifar-10-batches-bin",
            base_url: "https://www.cs.toronto.edu/~kriz/",
            source: "MD5 published by A. Krizhevsky on https://www.cs.toronto.edu/~kriz/cifar.html (binary version)",
            files: &[Remote {
                file: "cifar-10-binary.tar.gz",
                sum: Sum::Md5("c32a1d4ab5d03f1284b67883e8d87530"),
            }],
            archive: true,
        },
    }
}

/// The checksum of a file, in the kind `want` names.
pub fn file_sum(path: &Path, want: Sum) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut sha = Sha256::new();
    let mut md5 = Md5::new();
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        match want {
            Sum::Sha256(_) => sha.update(&buf[..n]),
            Sum::Md5(_) => md5.update(&buf[..n]),
        }
    }
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    Ok(match want {
        Sum::Sha256(_) => hex(&sha.finalize()),
        Sum::Md5(_) => hex(&md5.finalize()),
    })
}

fn expected(s: Sum) -> &'static str {
    match s {
        Sum::Sha256(h) | Sum::Md5(h) => h,
    }
}

fn kind(s: Sum) -> &'static str {
    match s {
        Sum::Sha256(_) => "SHA-256",
        Sum::Md5(_) => "MD5",
    }
}

/// How many times a dropped connection is resumed before giving up.
const ATTEMPTS: usize = 5;

/// Download `url` into `dest` (through `dest.part`), resuming a partial file, and keep it only
/// if it hashes to `sum`. `progress(done, total)` follows the bytes.
pub fn fetch(
    url: &str,
    dest: &Path,
    sum: Sum,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<()> {
    let part = dest.with_extension(format!(
        "{}.part",
        dest.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        // A stalled transfer is a dropped one: resume it. Per read, so that a slow link is not
        // cut part way (a whole-body budget would be).
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into();
    // A partial file that is already whole (an earlier call stopped while checking it) is kept
    // as it is: asking for the bytes after its end would only get "range not satisfiable".
    if std::fs::metadata(&part).is_ok_and(|m| m.len() > 0)
        && file_sum(&part, sum).ok().as_deref() == Some(expected(sum))
    {
        std::fs::rename(&part, dest)
            .with_context(|| format!("renaming {} to {}", part.display(), dest.display()))?;
        return Ok(());
    }
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        match fetch_once(&agent, url, &part, progress) {
            Ok(()) => {
                last_error = None;
                break;
            }
            Err(e) => last_error = Some(e),
        }
    }
    if let Some(e) = last_error {
        return Err(e.context(format!(
            "downloading {url}: gave up after {ATTEMPTS} attempts; the partial file {} is kept, and the next `duplab data get` resumes it",
            part.display()
        )));
    }
    let got = file_sum(&part, sum).with_context(|| format!("reading {}", part.display()))?;
    if got != expected(sum) {
        let _ = std::fs::remove_file(&part);
        bail!(
            "{}: {} mismatch (expected {}, got {got}); the download was deleted, nothing was kept. A mirror may serve another file: check --mirror",
            dest.display(),
            kind(sum),
            expected(sum)
        );
    }
    std::fs::rename(&part, dest)
        .with_context(|| format!("renaming {} to {}", part.display(), dest.display()))?;
    Ok(())
}

/// One HTTP request: from the partial file's length on (a range request), appended to it.
fn fetch_once(
    agent: &ureq::Agent,
    url: &str,
    part: &Path,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<()> {
    let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    let mut req = agent.get(url);
    if have > 0 {
        req = req.header("Range", format!("bytes={have}-"));
    }
    let mut resp = match req.call() {
        Ok(r) => r,
        // The partial file is as long as the file or longer, yet not it: start again.
        Err(ureq::Error::StatusCode(416)) => {
            let _ = std::fs::remove_file(part);
            bail!("{url}: the partial file does not fit the file on the server; starting again")
        }
        Err(e) => bail!("{url}: {e}"),
    };
    let status = resp.status().as_u16();
    // 206: the rest of the file; 200: the whole file (a server without ranges): start over.
    let resumed = status == 206 && have > 0;
    let len = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let total = len.map(|l| if resumed { l + have } else { l });
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(part)
        .with_context(|| format!("writing {}", part.display()))?;
    let mut done = if resumed { have } else { 0 };
    progress(done, total);
    let mut body = resp.body_mut().as_reader();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = body
            .read(&mut buf)
            .map_err(|e| anyhow!("{url}: connection dropped after {done} bytes: {e}"))?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])?;
        done += n as u64;
        progress(done, total);
    }
    out.sync_all()?;
    if let Some(t) = total
        && done < t
    {
        bail!("{url}: connection closed after {done} of {t} bytes");
    }
    Ok(())
}

/// Unpack a verified `.tar.gz` so that `folder` (the archive's top folder) appears in `root`
/// whole or not at all: into a hidden folder first, then renamed. Entries may not leave it.
pub fn unpack(archive: &Path, root: &Path, folder: &str) -> Result<()> {
    let staging = root.join(format!(".unpack-{folder}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    let result = (|| -> Result<()> {
        let f = std::fs::File::open(archive)?;
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(f));
        for entry in tar.entries()? {
            let mut e = entry?;
            // unpack_in refuses paths that climb out of the folder (`..`, absolute paths).
            if !e.unpack_in(&staging)? {
                bail!(
                    "{}: an entry leaves the archive's folder: {}",
                    archive.display(),
                    e.path()?.display()
                );
            }
        }
        let inner = staging.join(folder);
        if !inner.is_dir() {
            bail!("{}: holds no folder {folder}", archive.display());
        }
        let dest = root.join(folder);
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::rename(&inner, &dest)?;
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// The data folder every command searches (`duplab data inspect` lists it).
pub fn user_data_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "duplab")
        .map(|p| p.data_dir().to_path_buf())
        .ok_or_else(|| anyhow!("no home folder to keep data in; pass --dir"))
}

pub fn run(set: GetSet, dir: Option<PathBuf>, mirror: Option<String>) -> Result<i32> {
    let c = catalog(set);
    let root = match dir {
        Some(d) => d,
        None => user_data_dir()?,
    };
    let target = if c.archive {
        root.clone()
    } else {
        root.join(c.folder)
    };
    std::fs::create_dir_all(&target).with_context(|| format!("creating {}", target.display()))?;
    let base = mirror
        .as_deref()
        .map(|m| format!("{}/", m.trim_end_matches('/')))
        .unwrap_or_else(|| c.base_url.to_string());
    println!("{} into {} from {base}", c.folder, target.display());
    println!("checksums: {}", c.source);
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    if c.archive && root.join(c.folder).is_dir() && !target.join(c.files[0].file).exists() {
        println!(
            "  {} already unpacked (delete it to fetch the archive again)",
            root.join(c.folder).display()
        );
        return Ok(0);
    }
    for r in c.files {
        let dest = target.join(r.file);
        if dest.exists() {
            if file_sum(&dest, r.sum).ok().as_deref() == Some(expected(r.sum)) {
                println!("  {} already here, {} verified", r.file, kind(r.sum));
                continue;
            }
            // A file that fails its checksum is not left to look whole.
            std::fs::remove_file(&dest)
                .with_context(|| format!("removing the corrupt {}", dest.display()))?;
            println!(
                "  {} was corrupt ({} mismatch): removed, fetching it again",
                r.file,
                kind(r.sum)
            );
        }
        let bar = indicatif::ProgressBar::hidden();
        if tty {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "  {msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .expect("a valid template"),
            );
            bar.set_message(r.file);
        }
        let mut report = |done: u64, total: Option<u64>| {
            if let Some(t) = total {
                bar.set_length(t);
            }
            bar.set_position(done);
        };
        fetch(&format!("{base}{}", r.file), &dest, r.sum, &mut report)?;
        bar.finish_and_clear();
        println!("  {} {} verified", r.file, kind(r.sum));
        if c.archive {
            unpack(&dest, &root, c.folder)?;
            println!("  unpacked into {}", root.join(c.folder).display());
        }
    }
    if c.archive && !root.join(c.folder).is_dir() {
        unpack(&target.join(c.files[0].file), &root, c.folder)?;
        println!("  unpacked into {}", root.join(c.folder).display());
    }
    Ok(0)
}

#[cfg(test)]
#[path = "../../crates/duplab-core/src/test_data.rs"]
mod test_data;

#[cfg(test)]
mod tests {
    use super::test_data;
    use super::*;
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// How the test server answers each request in turn.
    #[derive(Clone, Copy)]
    enum Answer {
        /// The whole body.
        Whole,
        /// Headers for the whole body, half of it, then the connection closes.
        CutHalfway,
        /// The range the request asked for (206), or the whole body.
        Range,
    }

    /// A server on the loopback address that answers requests in `answers` order with `body`;
    /// returns its base URL and the Range header of every request it saw.
    fn serve(body: Vec<u8>, answers: Vec<Answer>) -> (String, Arc<Mutex<Vec<Option<String>>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(vec![]));
        let log = seen.clone();
        std::thread::spawn(move || {
            for (answer, stream) in answers.into_iter().zip(listener.incoming()) {
                let mut stream = stream.unwrap();
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut range = None;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                        range = v.trim().trim_end_matches('-').parse::<usize>().ok();
                    }
                }
                log.lock().unwrap().push(range.map(|r| r.to_string()));
                let (status, part) = match (answer, range) {
                    (Answer::Range, Some(from)) if from >= body.len() => {
                        ("416 Range Not Satisfiable", &body[..0])
                    }
                    (Answer::Range, Some(from)) => ("206 Partial Content", &body[from..]),
                    _ => ("200 OK", &body[..]),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    part.len()
                );
                stream.write_all(head.as_bytes()).unwrap();
                let send = match answer {
                    Answer::CutHalfway => &part[..part.len() / 2],
                    _ => part,
                };
                let _ = stream.write_all(send);
                let _ = stream.flush();
                // Dropping the stream closes the connection.
            }
        });
        (url, seen)
    }

    /// `fetch` of FILE from the test server at `url`, checked against the test body's SHA-256.
    fn get(url: &str, file: &str, dest: &Path) -> Result<()> {
        fetch(
            &format!("{url}{file}"),
            dest,
            Sum::Sha256(sha(&body())),
            &mut |_, _| {},
        )
    }

    fn body() -> Vec<u8> {
        (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn sha(b: &[u8]) -> &'static str {
        let h: String = Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect();
        Box::leak(h.into_boxed_str())
    }

    #[test]
    fn a_good_file_is_verified_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (url, _) = serve(body(), vec![Answer::Whole]);
        let dest = dir.path().join("f.gz");
        let mut last = (0, None);
        fetch(
            &format!("{url}f.gz"),
            &dest,
            Sum::Sha256(sha(&body())),
            &mut |d, t| last = (d, t),
        )
        .unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), body());
        assert_eq!(last, (200_000, Some(200_000)));
        assert!(!dir.path().join("f.gz.part").exists());
    }

    #[test]
    fn a_corrupt_file_is_a_checksum_error_and_nothing_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut bad = body();
        bad[1234] ^= 1;
        let (url, _) = serve(bad, vec![Answer::Whole]);
        let dest = dir.path().join("f.gz");
        let e = get(&url, "f.gz", &dest).unwrap_err().to_string();
        assert!(
            e.contains("SHA-256 mismatch") && e.contains("nothing was kept"),
            "{e}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no file left"
        );
    }

    #[test]
    fn a_connection_cut_halfway_is_resumed_with_a_range_request() {
        let dir = tempfile::tempdir().unwrap();
        let (url, seen) = serve(body(), vec![Answer::CutHalfway, Answer::Range]);
        let dest = dir.path().join("f.gz");
        get(&url, "f.gz", &dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), body());
        // The second request asked for the rest only.
        assert_eq!(
            *seen.lock().unwrap(),
            vec![None, Some("100000".to_string())]
        );
    }

    #[test]
    fn a_server_that_ignores_ranges_sends_the_whole_file_again() {
        let dir = tempfile::tempdir().unwrap();
        let (url, seen) = serve(body(), vec![Answer::CutHalfway, Answer::Whole]);
        let dest = dir.path().join("f.gz");
        get(&url, "f.gz", &dest).unwrap();
        assert_eq!(
            std::fs::read(&dest).unwrap(),
            body(),
            "restarted, not appended"
        );
        // A range was asked for, and the server's whole answer replaced the part.
        assert_eq!(
            *seen.lock().unwrap(),
            vec![None, Some("100000".to_string())]
        );
    }

    #[test]
    fn a_whole_partial_file_is_kept_and_a_wrong_one_started_again() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f.gz");
        // Whole: nothing is asked of the server (it would refuse the range).
        std::fs::write(dir.path().join("f.gz.part"), body()).unwrap();
        get("http://127.0.0.1:9/", "unused", &dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), body());
        // As long as the file but wrong: the server says 416, the part goes, the file comes whole.
        let dest2 = dir.path().join("g.gz");
        std::fs::write(dir.path().join("g.gz.part"), vec![0u8; 200_000]).unwrap();
        let (url, seen) = serve(body(), vec![Answer::Range, Answer::Whole]);
        get(&url, "g.gz", &dest2).unwrap();
        assert_eq!(std::fs::read(&dest2).unwrap(), body());
        // The range past the end was refused, and the file was then asked for from its start.
        assert_eq!(
            *seen.lock().unwrap(),
            vec![Some("200000".to_string()), None]
        );
    }

    #[test]
    fn a_verified_archive_is_unpacked_whole_and_md5_checked() {
        let dir = tempfile::tempdir().unwrap();
        // A small archive shaped like CIFAR-10's: one top folder with the batches.
        let mut tgz = vec![];
        {
            let enc = flate2::write::GzEncoder::new(&mut tgz, flate2::Compression::fast());
            let mut t = tar::Builder::new(enc);
            for name in ["data_batch_1.bin", "test_batch.bin"] {
                let data = vec![7u8; 3073 * 2];
                let mut h = tar::Header::new_gnu();
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                h.set_cksum();
                t.append_data(&mut h, format!("cifar-10-batches-bin/{name}"), &data[..])
                    .unwrap();
            }
            t.into_inner().unwrap().finish().unwrap();
        }
        let md5: String = Md5::digest(&tgz)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect();
        let (url, _) = serve(tgz, vec![Answer::Whole]);
        let dest = dir.path().join("cifar-10-binary.tar.gz");
        fetch(
            &format!("{url}c.tgz"),
            &dest,
            Sum::Md5(Box::leak(md5.into_boxed_str())),
            &mut |_, _| {},
        )
        .unwrap();
        unpack(&dest, dir.path(), "cifar-10-batches-bin").unwrap();
        let got = dir.path().join("cifar-10-batches-bin");
        assert_eq!(
            std::fs::read(got.join("test_batch.bin")).unwrap().len(),
            3073 * 2
        );
        // Nothing of the staging folder is left.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with(".unpack")), "{names:?}");
        assert!(
            unpack(&dest, dir.path(), "elsewhere")
                .unwrap_err()
                .to_string()
                .contains("holds no folder")
        );
    }

    #[test]
    fn the_shipped_sums_match_the_data_folders_copies() {
        for (set, folder) in [
            (GetSet::Mnist, "mnist"),
            (GetSet::FashionMnist, "fashion-mnist"),
        ] {
            let Some(dir) = test_data::shared_data(folder) else {
                return;
            };
            let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
            for r in catalog(set).files {
                let line = sums.lines().find(|l| l.ends_with(r.file)).unwrap();
                assert!(line.starts_with(expected(r.sum)), "{folder}/{}", r.file);
            }
        }
    }
}
