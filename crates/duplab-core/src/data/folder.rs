//! Image folders, torchvision's `ImageFolder` convention: `ROOT/train/<class>/*` and
//! `ROOT/test/<class>/*`, or one `ROOT/<class>/*` split into train and test by a seeded fraction.
//! PNG and JPEG, grey or colour; class names are the folder names, sorted (as torchvision sorts
//! them). Images are converted to the requested channels and, when a size is given, resized with
//! a bilinear filter; differing sizes without one are refused. Decoding many files is slow, so the
//! result is cached in the user cache folder as u8 arrays, keyed by every file's path, size and
//! modification time and by the options: a changed folder is read again, an unchanged one never.

use super::rng::Rng;
use super::{DataError, DataSet, Split, checksum};
use crate::atomic::WriteError;
use std::path::{Path, PathBuf};

/// How an image folder is read.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderOptions {
    pub root: PathBuf,
    /// Height and width to resize every image to (bilinear); `None`: all must be one size.
    pub size: Option<[usize; 2]>,
    /// 1 (grey) or 3 (RGB); `None`: those of the first image.
    pub channels: Option<usize>,
    /// For a folder without `train/` and `test/`: the fraction of each class held out as test.
    pub split: f64,
    pub seed: u64,
    /// Skip (and name) images that cannot be decoded instead of stopping at the first.
    pub skip_bad: bool,
}

impl FolderOptions {
    /// How to read the folder of a `set = "folder"` data spec (`None` for the other sets). It lives
    /// here, not in `spec`, so that `spec` stays the bottom layer and knows nothing of `data`.
    pub fn from_spec(spec: &crate::spec::DataSpec, seed: u64) -> Option<FolderOptions> {
        use crate::spec::{BadImages, DataSetKind};
        (spec.set == DataSetKind::Folder).then(|| FolderOptions {
            root: PathBuf::from(spec.path.clone().unwrap_or_default()),
            size: spec.size,
            channels: spec.channels,
            split: spec.split.unwrap_or(0.2),
            seed,
            skip_bad: spec.bad_images == Some(BadImages::Skip),
        })
    }
}

const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Sorted sub-folders of `dir` (the classes) and, per class, its image files, sorted.
fn classes_in(dir: &Path) -> Result<Vec<(String, Vec<PathBuf>)>, DataError> {
    let rd = std::fs::read_dir(dir).map_err(|e| DataError::new(dir, e.to_string()))?;
    let mut classes: Vec<(String, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        // Class names reach the lab's screens, reports and config.json: no control characters.
        .map(|e| {
            (
                super::terminal_safe(&e.file_name().to_string_lossy()),
                e.path(),
            )
        })
        .filter(|(n, _)| !n.starts_with('.'))
        .collect();
    classes.sort();
    if classes.is_empty() {
        return Err(DataError::new(
            dir,
            "no class folders: expected ROOT/train/<class>/*.png|jpg and ROOT/test/<class>/*, or ROOT/<class>/*",
        ));
    }
    classes
        .into_iter()
        .map(|(name, path)| {
            let rd = std::fs::read_dir(&path).map_err(|e| DataError::new(&path, e.to_string()))?;
            let mut files: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file() && is_image(p))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(DataError::new(
                    &path,
                    format!("class `{name}` has no .png, .jpg or .jpeg images"),
                ));
            }
            Ok((name, files))
        })
        .collect()
}

/// The files of each split with their labels, and the class names.
#[allow(clippy::type_complexity)]
fn layout(
    o: &FolderOptions,
) -> Result<(Vec<(PathBuf, u8)>, Vec<(PathBuf, u8)>, Vec<String>), DataError> {
    let (train_dir, test_dir) = (o.root.join("train"), o.root.join("test"));
    let labelled = |cs: Vec<(String, Vec<PathBuf>)>,
                    names: &[String]|
     -> Result<Vec<(PathBuf, u8)>, DataError> {
        let mut out = vec![];
        for (name, files) in cs {
            let label = names.iter().position(|n| *n == name).ok_or_else(|| {
                DataError::new(
                    &o.root,
                    format!("test class `{name}` is not a training class"),
                )
            })?;
            out.extend(files.into_iter().map(|f| (f, label as u8)));
        }
        Ok(out)
    };
    if train_dir.is_dir() && test_dir.is_dir() {
        let train = classes_in(&train_dir)?;
        let names: Vec<String> = train.iter().map(|(n, _)| n.clone()).collect();
        if names.len() > 256 {
            return Err(DataError::new(
                &train_dir,
                format!("{} classes; at most 256", names.len()),
            ));
        }
        let test = classes_in(&test_dir)?;
        return Ok((labelled(train, &names)?, labelled(test, &names)?, names));
    }
    if !(0.0..1.0).contains(&o.split) || o.split <= 0.0 {
        return Err(DataError::new(
            &o.root,
            format!("split is {}; allowed: a test fraction in (0, 1)", o.split),
        ));
    }
    let all = classes_in(&o.root)?;
    let names: Vec<String> = all.iter().map(|(n, _)| n.clone()).collect();
    // Labels are one byte: a 257th class would wrap onto the first.
    if names.len() > 256 {
        return Err(DataError::new(
            &o.root,
            format!("{} classes (one folder each); at most 256", names.len()),
        ));
    }
    let (mut train, mut test) = (vec![], vec![]);
    for (label, (name, mut files)) in all.into_iter().enumerate() {
        // Seeded per class, so a class's split does not depend on the others.
        Rng::new(o.seed ^ (label as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).shuffle(&mut files);
        let n_test = ((files.len() as f64 * o.split).round() as usize).clamp(1, files.len());
        if files.len() < 2 {
            return Err(DataError::new(
                &o.root.join(&name),
                "a class needs at least 2 images to be split into train and test",
            ));
        }
        let n_test = n_test.min(files.len() - 1);
        for (i, f) in files.into_iter().enumerate() {
            if i < n_test {
                test.push((f, label as u8));
            } else {
                train.push((f, label as u8));
            }
        }
    }
    train.sort();
    test.sort();
    Ok((train, test, names))
}

/// One image as C×H×W u8 in the wanted channels, resized when a size is given.
fn decode(
    path: &Path,
    channels: usize,
    size: Option<[usize; 2]>,
) -> Result<(Vec<u8>, [usize; 2]), String> {
    let img = image::ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())?;
    let img = match size {
        Some([h, w]) if (img.height() as usize, img.width() as usize) != (h, w) => {
            img.resize_exact(w as u32, h as u32, image::imageops::FilterType::Triangle)
        }
        _ => img,
    };
    let (w, h) = (img.width() as usize, img.height() as usize);
    let chw = if channels == 1 {
        img.to_luma8().into_raw()
    } else {
        // HWC → CHW.
        let hwc = img.to_rgb8().into_raw();
        let mut out = vec![0u8; hwc.len()];
        for (i, px) in hwc.chunks_exact(3).enumerate() {
            for c in 0..3 {
                out[c * h * w + i] = px[c];
            }
        }
        out
    };
    Ok((chw, [h, w]))
}

/// The cache key: every file's path, length and modification time, and the options.
fn key(o: &FolderOptions, files: &[&(PathBuf, u8)]) -> String {
    let mut k = format!(
        "folder-v1|{}|{:?}|{:?}|{}|{}\n",
        o.root.display(),
        o.size,
        o.channels,
        o.split,
        o.seed
    );
    for (p, l) in files {
        let m = std::fs::metadata(p).ok();
        let len = m.as_ref().map_or(0, |m| m.len());
        let mtime = m
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        k.push_str(&format!("{}|{l}|{len}|{mtime}\n", p.display()));
    }
    checksum(k.as_bytes())[..32].to_string()
}

/// The image-folder cache's kind in the cache format (`data::cache`).
const CACHE_KIND: &str = "image-folder-v1";

fn write_cache(path: &Path, ds: &DataSet, skipped: &[String]) -> Result<(), WriteError> {
    let header = serde_json::json!({
        "name": ds.name, "source": ds.source, "class_names": ds.class_names,
        "shape": [ds.train.channels, ds.train.height, ds.train.width],
        "train": ds.train.len(), "test": ds.test.len(), "skipped": skipped,
    });
    let parts = [
        &ds.train.images[..],
        &ds.train.labels[..],
        &ds.test.images[..],
        &ds.test.labels[..],
    ];
    super::cache::write(path, CACHE_KIND, header, &parts)
}

fn read_cache(path: &Path) -> Option<(DataSet, Vec<String>)> {
    let (h, payload) = super::cache::read(path, CACHE_KIND)?;
    let shape: [usize; 3] = serde_json::from_value(h["shape"].clone()).ok()?;
    let (train_n, test_n) = (h["train"].as_u64()? as usize, h["test"].as_u64()? as usize);
    // The counts must account for the payload exactly (checked, so a crafted header cannot
    // overflow): the payload's length is already bounded by the file's.
    let per_image = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))?
        .checked_add(1)?;
    if train_n.checked_add(test_n)?.checked_mul(per_image)? != payload.len() {
        return None;
    }
    let mut rest = &payload[..];
    let mut split = |n: usize| -> Split {
        let (images, tail) = rest.split_at(n * (per_image - 1));
        let (labels, tail) = tail.split_at(n);
        rest = tail;
        Split {
            images: images.to_vec(),
            labels: labels.to_vec(),
            channels: shape[0],
            height: shape[1],
            width: shape[2],
        }
    };
    let train = split(train_n);
    let test = split(test_n);
    // Names as an older version may have cached them: made terminal-safe here too.
    let class_names: Vec<String> = serde_json::from_value::<Vec<String>>(h["class_names"].clone())
        .ok()?
        .iter()
        .map(|n| super::terminal_safe(n))
        .collect();
    // A label past the class list would index out of bounds later: such a file is not ours.
    let classes = class_names.len();
    if [&train, &test]
        .iter()
        .any(|s| s.labels.iter().any(|&l| l as usize >= classes))
    {
        return None;
    }
    Some((
        DataSet {
            name: h["name"].as_str()?.to_string(),
            source: h["source"].as_str()?.to_string(),
            train,
            test,
            class_names,
        },
        serde_json::from_value(h["skipped"].clone()).unwrap_or_default(),
    ))
}

/// What loading a folder did besides the data: whether it came from the cache, and which files
/// were skipped as unreadable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FolderReport {
    pub cached: bool,
    pub skipped: Vec<String>,
}

/// Read an image folder (through the cache in `cache`, when given). `progress(done, total)`
/// follows the decoding.
/// The most pixels a folder's images may hold before resizing, all together: 2³² (70,000 images
/// of 250×250 fit). Each image is also within the decoder's own limit; this bounds the whole.
pub const PIXEL_BUDGET: u64 = 1 << 32;

pub fn load_folder(
    o: &FolderOptions,
    cache: Option<&Path>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(DataSet, FolderReport), DataError> {
    load_folder_within(o, cache, progress, PIXEL_BUDGET)
}

/// `load_folder` with a pixel budget of its own (tests use a small one).
fn load_folder_within(
    o: &FolderOptions,
    cache: Option<&Path>,
    progress: &(dyn Fn(usize, usize) + Sync),
    budget: u64,
) -> Result<(DataSet, FolderReport), DataError> {
    if let Some(c) = o.channels
        && c != 1
        && c != 3
    {
        return Err(DataError::new(
            &o.root,
            format!("channels is {c}; allowed: 1 or 3"),
        ));
    }
    if !o.root.is_dir() {
        return Err(DataError::new(&o.root, "no such folder"));
    }
    let (train, test, names) = layout(o)?;
    let all: Vec<&(PathBuf, u8)> = train.iter().chain(&test).collect();
    let file = cache.map(|c| c.join("folders").join(format!("{}.bin", key(o, &all))));
    if let Some(f) = &file
        && let Some((ds, skipped)) = read_cache(f)
    {
        return Ok((
            ds,
            FolderReport {
                cached: true,
                skipped,
            },
        ));
    }
    let channels = match o.channels {
        Some(c) => c,
        None => {
            let first = image::open(&all[0].0)
                .map_err(|e| DataError::new(&all[0].0, format!("not a readable image: {e}")))?;
            if first.color().channel_count() >= 3 {
                3
            } else {
                1
            }
        }
    };
    let total = all.len();
    let mut skipped = vec![];
    let mut shape: Option<([usize; 2], PathBuf)> = None;
    let mut pixels: u64 = 0;
    let mut read_split = |files: &[(PathBuf, u8)], done0: usize| -> Result<Split, DataError> {
        let mut images = vec![];
        let mut labels = vec![];
        for (i, (p, l)) in files.iter().enumerate() {
            if (done0 + i) % 64 == 0 {
                progress(done0 + i, total);
            }
            // The image's size from its header alone, counted against the folder's budget
            // before it is decoded.
            if let Some((w, h)) = image::ImageReader::open(p)
                .ok()
                .and_then(|r| r.with_guessed_format().ok())
                .and_then(|r| r.into_dimensions().ok())
            {
                pixels = pixels.saturating_add(w as u64 * h as u64);
                if pixels > budget {
                    return Err(DataError::new(
                        p,
                        format!(
                            "the folder's images hold more than {budget} pixels before resizing (the budget for one folder), reached at this image ({w}×{h}); resize them first, or use fewer"
                        ),
                    ));
                }
            }
            let (px, hw) = match decode(p, channels, o.size) {
                Ok(x) => x,
                Err(e) if o.skip_bad => {
                    skipped.push(super::terminal_safe(&format!("{}: {e}", p.display())));
                    continue;
                }
                Err(e) => {
                    return Err(DataError::new(
                        p,
                        format!(
                            "not a readable PNG or JPEG image ({e}); data.bad_images = \"skip\" names such files and goes on"
                        ),
                    ));
                }
            };
            match &shape {
                None => shape = Some((hw, p.clone())),
                Some((s, first)) if *s != hw => {
                    return Err(DataError::new(
                        p,
                        format!(
                            "is {}×{} but {} is {}×{}; give the preset a size to resize to (data.size = [H, W])",
                            hw[0],
                            hw[1],
                            first.display(),
                            s[0],
                            s[1]
                        ),
                    ));
                }
                _ => {}
            }
            images.extend_from_slice(&px);
            labels.push(*l);
        }
        let [h, w] = shape.as_ref().map_or([0, 0], |s| s.0);
        Ok(Split {
            images,
            labels,
            channels,
            height: h,
            width: w,
        })
    };
    let train_split = read_split(&train, 0)?;
    let test_split = read_split(&test, train.len())?;
    progress(total, total);
    for (s, what) in [(&train_split, "training"), (&test_split, "test")] {
        if s.is_empty() {
            return Err(DataError::new(
                &o.root,
                format!("no readable {what} images"),
            ));
        }
        for (c, n) in s.class_counts(names.len()).iter().enumerate() {
            if *n == 0 && what == "training" {
                return Err(DataError::new(
                    &o.root,
                    format!("class `{}` has no readable training images", names[c]),
                ));
            }
        }
    }
    let ds = DataSet {
        name: format!(
            "folder:{}",
            o.root
                .file_name()
                .map_or("data".into(), |n| n.to_string_lossy().to_string())
        ),
        source: o.root.display().to_string(),
        train: train_split,
        test: test_split,
        class_names: names,
    };
    if let Some(f) = &file {
        // A cache that cannot be written only costs decoding again next time.
        let _ = write_cache(f, &ds, &skipped);
    }
    Ok((
        ds,
        FolderReport {
            cached: false,
            skipped,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grey image whose pixels encode (class, index, position), so reading can be checked.
    fn pixels(class: u8, i: u8, h: u32, w: u32) -> Vec<u8> {
        (0..h * w)
            .map(|p| {
                class
                    .wrapping_mul(50)
                    .wrapping_add(i.wrapping_mul(7))
                    .wrapping_add(p as u8)
            })
            .collect()
    }

    fn png(path: &Path, class: u8, i: u8, h: u32, w: u32) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::GrayImage::from_raw(w, h, pixels(class, i, h, w))
            .unwrap()
            .save(path)
            .unwrap();
    }

    fn opts(root: &Path) -> FolderOptions {
        FolderOptions {
            root: root.to_path_buf(),
            size: None,
            channels: None,
            split: 0.25,
            seed: 0,
            skip_bad: false,
        }
    }

    /// `ROOT/train/<class>/*` and `ROOT/test/<class>/*` with 3 classes (folder names unsorted).
    fn train_test(root: &Path) {
        for (c, name) in [(0u8, "cat"), (1, "ant"), (2, "bee")] {
            for i in 0..4u8 {
                png(&root.join(format!("train/{name}/{i}.png")), c, i, 6, 5);
            }
            png(&root.join(format!("test/{name}/t.png")), c, 9, 6, 5);
        }
        std::fs::write(root.join("train/ant/notes.txt"), "not an image, ignored").unwrap();
    }

    #[test]
    fn train_and_test_folders_read_with_sorted_class_names_and_exact_pixels() {
        let dir = tempfile::tempdir().unwrap();
        train_test(dir.path());
        let (ds, r) = load_folder(&opts(dir.path()), None, &|_, _| {}).unwrap();
        assert!(!r.cached && r.skipped.is_empty());
        assert_eq!(
            ds.class_names,
            vec!["ant", "bee", "cat"],
            "sorted, as torchvision"
        );
        assert_eq!((ds.train.len(), ds.test.len()), (12, 3));
        assert_eq!(
            (ds.train.channels, ds.train.height, ds.train.width),
            (1, 6, 5)
        );
        assert_eq!(ds.train.class_counts(3), vec![4, 4, 4]);
        // The first training image is ant/0.png (folder "ant" was written as class 1).
        assert_eq!(ds.train.labels[0], 0);
        assert_eq!(
            ds.train.image(0),
            pixels(1, 0, 6, 5).as_slice(),
            "PNG is lossless"
        );
    }

    #[test]
    fn the_cache_serves_an_unchanged_folder_and_notices_a_changed_one() {
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        train_test(dir.path());
        let o = opts(dir.path());
        let (a, r1) = load_folder(&o, Some(cache.path()), &|_, _| {}).unwrap();
        let (b, r2) = load_folder(&o, Some(cache.path()), &|_, _| {}).unwrap();
        assert!(!r1.cached && r2.cached);
        assert_eq!(a, b);
        // Rewrite one image with other pixels (and another length): read again.
        std::thread::sleep(std::time::Duration::from_millis(20));
        png(&dir.path().join("train/bee/0.png"), 7, 7, 6, 5);
        let (c, r3) = load_folder(&o, Some(cache.path()), &|_, _| {}).unwrap();
        assert!(!r3.cached);
        assert_ne!(c, a);
    }

    #[test]
    fn one_folder_is_split_by_a_seeded_fraction() {
        let dir = tempfile::tempdir().unwrap();
        for (c, name) in [(0u8, "a"), (1, "b")] {
            for i in 0..8u8 {
                png(&dir.path().join(format!("{name}/{i}.png")), c, i, 4, 4);
            }
        }
        let o = opts(dir.path());
        let (ds, _) = load_folder(&o, None, &|_, _| {}).unwrap();
        assert_eq!(
            (ds.train.len(), ds.test.len()),
            (12, 4),
            "a quarter of each class"
        );
        assert_eq!(ds.test.class_counts(2), vec![2, 2]);
        let (again, _) = load_folder(&o, None, &|_, _| {}).unwrap();
        assert_eq!(ds, again, "the same seed, the same split");
    }

    #[test]
    fn sizes_channels_and_bad_files_are_handled_or_named() {
        let dir = tempfile::tempdir().unwrap();
        train_test(dir.path());
        // A colour JPEG of another size.
        let rgb =
            image::RgbImage::from_fn(10, 12, |x, y| image::Rgb([x as u8 * 20, y as u8 * 20, 100]));
        rgb.save(dir.path().join("train/cat/big.jpg")).unwrap();
        let e = load_folder(&opts(dir.path()), None, &|_, _| {}).unwrap_err();
        assert!(
            e.to_string().contains("is 12×10 but") && e.to_string().contains("data.size"),
            "{e}"
        );
        let o = FolderOptions {
            size: Some([8, 8]),
            channels: Some(3),
            ..opts(dir.path())
        };
        let (ds, _) = load_folder(&o, None, &|_, _| {}).unwrap();
        assert_eq!(
            (ds.train.channels, ds.train.height, ds.train.width),
            (3, 8, 8)
        );
        assert_eq!(ds.train.len(), 13);
        // A grey image converted to RGB has three equal planes.
        let img = ds.train.image(0);
        assert_eq!(&img[..64], &img[64..128]);
        // A truncated PNG and a text file named .png: named, or skipped when asked.
        let good = std::fs::read(dir.path().join("train/ant/0.png")).unwrap();
        std::fs::write(
            dir.path().join("train/ant/cut.png"),
            &good[..good.len() / 2],
        )
        .unwrap();
        std::fs::write(dir.path().join("train/bee/fake.png"), "hello").unwrap();
        let o = FolderOptions {
            size: Some([8, 8]),
            ..opts(dir.path())
        };
        let e = load_folder(&o, None, &|_, _| {}).unwrap_err();
        assert!(
            e.to_string().contains("cut.png") && e.to_string().contains("bad_images"),
            "{e}"
        );
        let o = FolderOptions {
            skip_bad: true,
            ..o
        };
        let (ds, r) = load_folder(&o, None, &|_, _| {}).unwrap();
        assert_eq!(r.skipped.len(), 2, "{:?}", r.skipped);
        assert_eq!(ds.train.len(), 13);
        // An empty class folder is an error that names it.
        std::fs::create_dir_all(dir.path().join("train/dog")).unwrap();
        let e = load_folder(&o, None, &|_, _| {}).unwrap_err();
        assert!(e.to_string().contains("class `dog` has no"), "{e}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Whatever bytes a .png or .jpg holds, reading returns an answer, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400), jpg: bool) {
            let dir = tempfile::tempdir().unwrap();
            train_test(dir.path());
            let name = if jpg { "train/cat/x.jpg" } else { "train/cat/x.png" };
            std::fs::write(dir.path().join(name), &bytes).unwrap();
            let _ = load_folder(&opts(dir.path()), None, &|_, _| {});
            let o = FolderOptions { skip_bad: true, ..opts(dir.path()) };
            let r = load_folder(&o, None, &|_, _| {});
            proptest::prop_assert!(r.is_ok(), "skipping bad files always reads the rest: {:?}", r.err());
        }
    }

    /// Case 5 of the crash-consistency issue: a folder of huge images had no total budget (each
    /// within the decoder's limit, all together as much as the disk holds). The budget is
    /// counted from the images' headers before decoding, and stated in the error.
    #[test]
    fn a_folder_past_its_pixel_budget_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        for (c, name) in ["a", "b"].iter().enumerate() {
            for split in ["train", "test"] {
                let d = dir.path().join(split).join(name);
                std::fs::create_dir_all(&d).unwrap();
                for i in 0..2u8 {
                    image::GrayImage::from_fn(40, 30, |x, y| {
                        image::Luma([(x + y) as u8 + i + c as u8])
                    })
                    .save(d.join(format!("{i}.png")))
                    .unwrap();
                }
            }
        }
        let o = opts(dir.path());
        // 8 images of 1,200 pixels: 9,600 in all.
        assert!(load_folder_within(&o, None, &|_, _| {}, 9_600).is_ok());
        let e = load_folder_within(&o, None, &|_, _| {}, 9_599)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("more than 9599 pixels") && e.contains("40×30"),
            "{e}"
        );
    }

    /// Case 5 of the crash-consistency issue: a folder split by fraction with more than 256
    /// classes wrapped its one-byte labels (class 256 became class 0) and ended in a misleading
    /// error. It is refused, saying why.
    #[test]
    fn more_than_256_classes_are_refused_in_either_layout() {
        let dir = tempfile::tempdir().unwrap();
        for c in 0..257 {
            let d = dir.path().join(format!("class{c:03}"));
            std::fs::create_dir_all(&d).unwrap();
            for i in 0..2u8 {
                image::GrayImage::from_pixel(4, 4, image::Luma([i]))
                    .save(d.join(format!("{i}.png")))
                    .unwrap();
            }
        }
        let e = load_folder(&opts(dir.path()), None, &|_, _| {})
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("257 classes") && e.contains("at most 256"),
            "{e}"
        );
    }
}
