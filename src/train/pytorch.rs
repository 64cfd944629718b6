//! Weights PyTorch loads as is. `model.safetensors` holds every parameter under PyTorch's name and
//! in PyTorch's layout (a Linear weight `[out, in]`; batch norm `weight`, `bias`, `running_mean`,
//! `running_var`, `num_batches_tracked`), plus the input normalisation as `norm.mean` and
//! `norm.std`, and metadata naming the model kind, input shape, class names and preset. With the
//! module definitions of `python/duplab_model.py`, `load_state_dict(load_file(path), strict=True)`
//! works and gives duplab's logits (checked by `python/check_logits.py`; a test compares duplab's
//! forward pass with the logits PyTorch computed, committed under `tests/fixtures/pytorch/`).

use crate::nn::{InputShape, Net};
use crate::spec::ModelKind;
use anyhow::{Context, Result, anyhow, bail};
use burn::prelude::*;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use std::collections::HashMap;
use std::path::Path;

/// The PyTorch module definitions that match the files (`duplab runs export --pytorch` writes it).
pub const MODULE_PY: &str = include_str!("../../python/duplab_model.py");

/// What a weights file says about its model besides the tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub kind: ModelKind,
    pub input: InputShape,
    pub class_names: Vec<String>,
    pub preset: String,
}

impl ModelInfo {
    fn metadata(&self) -> HashMap<String, String> {
        let i = &self.input;
        HashMap::from([
            ("format".into(), "pytorch".into()),
            (
                "producer".into(),
                format!("duplab {}", env!("CARGO_PKG_VERSION")),
            ),
            ("model".into(), self.kind.name().into()),
            (
                "input".into(),
                format!("[{}, {}, {}]", i.channels, i.height, i.width),
            ),
            (
                "mean".into(),
                serde_json::to_string(&i.mean).unwrap_or_default(),
            ),
            (
                "std".into(),
                serde_json::to_string(&i.std).unwrap_or_default(),
            ),
            (
                "class_names".into(),
                serde_json::to_string(&self.class_names).unwrap_or_default(),
            ),
            ("preset".into(), self.preset.clone()),
        ])
    }

    fn from_metadata(m: &HashMap<String, String>) -> Result<ModelInfo> {
        let get = |k: &str| m.get(k).ok_or_else(|| anyhow!("metadata has no `{k}`"));
        if get("format")? != "pytorch" {
            bail!("metadata `format` is {:?}, not \"pytorch\"", get("format")?);
        }
        let name = get("model")?;
        let kind = ModelKind::parse(name).ok_or_else(|| anyhow!("unknown model kind {name:?}"))?;
        let [channels, height, width]: [usize; 3] = serde_json::from_str(get("input")?)?;
        let class_names: Vec<String> = serde_json::from_str(get("class_names")?)?;
        Ok(ModelInfo {
            kind,
            input: InputShape {
                channels,
                height,
                width,
                classes: class_names.len(),
                mean: serde_json::from_str(get("mean")?)?,
                std: serde_json::from_str(get("std")?)?,
            },
            class_names,
            preset: get("preset")?.clone(),
        })
    }
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Write `model` as PyTorch weights with its normalisation and metadata.
pub fn write(model: &Net, info: &ModelInfo, path: &Path) -> Result<()> {
    let mut store = SafetensorsStore::from_bytes(None)
        .skip_enum_variants(true)
        .with_to_adapter(BurnToPyTorchAdapter);
    // `valid()` first: burn keeps a running state's last update aside until it is synced, and
    // collecting reads the state without syncing (the file would lag batch norm by one update).
    model
        .valid()
        .save_into(&mut store)
        .map_err(|e| anyhow!("collecting the weights: {e}"))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| anyhow!("collecting the weights: {e}"))?;
    let st = SafeTensors::deserialize(&bytes).context("reading back the collected weights")?;
    let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(name, t)| (name, t.dtype(), t.shape().to_vec(), t.data().to_vec()))
        .collect();
    // PyTorch's batch norm also counts the batches it has seen; strict loading wants it.
    let norms: Vec<String> = owned
        .iter()
        .filter_map(|(n, ..)| n.strip_suffix(".running_var").map(String::from))
        .collect();
    for prefix in norms {
        owned.push((
            format!("{prefix}.num_batches_tracked"),
            Dtype::I64,
            vec![],
            0i64.to_le_bytes().to_vec(),
        ));
    }
    let c = info.input.mean.len();
    owned.push((
        "norm.mean".into(),
        Dtype::F32,
        vec![c],
        f32_bytes(&info.input.mean),
    ));
    owned.push((
        "norm.std".into(),
        Dtype::F32,
        vec![c],
        f32_bytes(&info.input.std),
    ));
    let views: Vec<(String, TensorView)> = owned
        .iter()
        .map(|(n, d, s, b)| Ok((n.clone(), TensorView::new(*d, s.clone(), b)?)))
        .collect::<Result<_, safetensors::SafeTensorError>>()?;
    let tmp = crate::atomic::temp_path(path);
    safetensors::serialize_to_file(views, Some(info.metadata()), &tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    crate::atomic::commit(&tmp, path, crate::atomic::Durability::Sync)?;
    Ok(())
}

/// Read a file `write` wrote: the model it names, with its weights, on `device`.
pub fn read(path: &Path, device: &Device) -> Result<(Net, ModelInfo)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let (_, header) = SafeTensors::read_metadata(&bytes)
        .with_context(|| format!("{} is not a safetensors file", path.display()))?;
    let meta = header.metadata().clone().unwrap_or_default();
    let info = ModelInfo::from_metadata(&meta).with_context(|| {
        format!(
            "{} is not a duplab PyTorch-layout file (runs finished before this version store burn's layout; `duplab runs export RUN --pytorch DIR` converts their checkpoint)",
            path.display()
        )
    })?;
    let mut model = Net::new(info.kind, &info.input, device)?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .skip_enum_variants(true)
        .with_from_adapter(PyTorchToBurnAdapter)
        .allow_partial(false);
    let result = model
        .load_from(&mut store)
        .map_err(|e| anyhow!("loading {}: {e}", path.display()))?;
    if !result.missing.is_empty() {
        bail!("{}: missing tensors {:?}", path.display(), result.missing);
    }
    Ok((model, info))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    /// Images the fixtures' logits were computed on: the first four embedded test images for the
    /// 28×28 grey models, a fixed pattern for the 32×32 colour one. N×C×H×W in [0, 1].
    fn images(kind: ModelKind) -> (Vec<f32>, [usize; 4]) {
        if kind == ModelKind::PreactResnet18 {
            let dims = [2, 3, 32, 32];
            let v = (0..dims.iter().product::<usize>())
                .map(|i| ((i * 37 + i / 1024 * 11) % 256) as f32 / 255.0)
                .collect();
            return (v, dims);
        }
        let ds = crate::data::load_embedded();
        let v = ds.test.images[..4 * 784]
            .iter()
            .map(|&p| p as f32 / 255.0)
            .collect();
        (v, [4, 1, 28, 28])
    }

    /// A model of each kind from a fixed seed; batch norm's running statistics moved off their
    /// initial values by two training-mode passes, so the file's statistics matter. Callers hold
    /// `crate::burn_serial()`.
    fn fixture(kind: ModelKind) -> (Net, ModelInfo) {
        let (x, dims) = images(kind);
        let input = InputShape {
            channels: dims[1],
            height: dims[2],
            width: dims[3],
            classes: 10,
            mean: vec![0.3; dims[1]],
            std: vec![0.4; dims[1]],
        };
        let ad = crate::backend::cpu_device().autodiff();
        ad.seed(7);
        let net = Net::new(kind, &input, &ad).unwrap();
        if kind == ModelKind::PreactResnet18 {
            for _ in 0..2 {
                let t = Tensor::<4>::from_data(TensorData::new(x.clone(), dims), &ad);
                let _ = net.forward(t);
            }
        }
        let info = ModelInfo {
            kind,
            input,
            class_names: crate::data::FASHION_CLASSES.map(String::from).to_vec(),
            preset: "fixture".into(),
        };
        (net, info)
    }

    fn logits(net: &Net, kind: ModelKind) -> Vec<f32> {
        let (x, dims) = images(kind);
        let dev = crate::backend::cpu_device();
        let m = net.valid();
        let t = Tensor::<4>::from_data(TensorData::new(x, dims), &dev);
        m.forward(t).into_data().iter::<f32>().collect()
    }

    /// The logits PyTorch computed from the files these fixtures write
    /// (`python/check_logits.py`), committed.
    fn reference() -> serde_json::Value {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytorch/logits.json");
        let text = std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("{}: {e} (run python/check_logits.py)", p.display()));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn duplab_reads_its_pytorch_files_back_and_computes_pytorchs_logits() {
        let _serial = crate::burn_serial(); // initialisation draws from burn's generator
        let refs = reference();
        let dir = tempfile::tempdir().unwrap();
        for kind in ModelKind::ALL {
            let (net, info) = fixture(kind);
            let path = dir.path().join(format!("{}.safetensors", kind.name()));
            write(&net, &info, &path).unwrap();
            let (back, read_info) = read(&path, &crate::backend::cpu_device().autodiff()).unwrap();
            assert_eq!(read_info, info);
            let ours = logits(&back, kind);
            assert_eq!(ours, logits(&net, kind), "{kind:?}: read back exactly");
            let theirs: Vec<f32> = refs[kind.name()]["logits"]
                .as_array()
                .unwrap_or_else(|| panic!("no reference logits for {}", kind.name()))
                .iter()
                .flat_map(|row| row.as_array().unwrap().iter())
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            assert_eq!(ours.len(), theirs.len(), "{kind:?}");
            for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-4 + 1e-3 * b.abs(),
                    "{kind:?} logit {i}: duplab {a}, PyTorch {b}"
                );
            }
        }
    }

    #[test]
    fn the_file_has_pytorchs_names_layouts_and_the_normalisation() {
        let _serial = crate::burn_serial();
        let dir = tempfile::tempdir().unwrap();
        let (net, info) = fixture(ModelKind::SmallCnn);
        let path = dir.path().join("m.safetensors");
        write(&net, &info, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let mut names = st.names();
        names.sort();
        assert_eq!(
            names,
            vec![
                "conv1.bias",
                "conv1.weight",
                "conv2.bias",
                "conv2.weight",
                "fc1.bias",
                "fc1.weight",
                "fc2.bias",
                "fc2.weight",
                "norm.mean",
                "norm.std"
            ]
        );
        // Linear weights are [out, in], as torch.nn.Linear keeps them.
        assert_eq!(st.tensor("fc1.weight").unwrap().shape(), &[128, 32 * 7 * 7]);
        assert_eq!(st.tensor("fc2.weight").unwrap().shape(), &[10, 128]);
        assert_eq!(st.tensor("norm.mean").unwrap().data(), 0.3f32.to_le_bytes());
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let meta = header.metadata().clone().unwrap();
        assert_eq!(meta["model"], "small-cnn");
        assert_eq!(meta["input"], "[1, 28, 28]");
        // PreAct-ResNet-18: batch norm under PyTorch's names, with the batch counter.
        let (net, info) = fixture(ModelKind::PreactResnet18);
        write(&net, &info, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let names = st.names();
        for n in [
            "blocks.0.bn1.weight",
            "blocks.0.bn1.bias",
            "blocks.0.bn1.running_mean",
            "blocks.0.bn1.running_var",
            "blocks.0.bn1.num_batches_tracked",
            "blocks.2.shortcut.weight",
            "bn.running_var",
            "fc.weight",
        ] {
            assert!(names.contains(&n), "{n} in {names:?}");
        }
        assert!(
            !names
                .iter()
                .any(|n| n.contains("gamma") || n.contains("beta"))
        );
        // Older files (burn's layout, no metadata) are refused with a way forward.
        std::fs::write(
            &path,
            safetensors::serialize(Vec::<(String, TensorView)>::new(), None).unwrap(),
        )
        .unwrap();
        let e = read(&path, &crate::backend::cpu_device()).unwrap_err();
        assert!(
            format!("{e:#}").contains("runs export RUN --pytorch"),
            "{e:#}"
        );
    }

    /// Writes the fixture files for `python/check_logits.py` into `$DUPLAB_FIXTURE_OUT`:
    /// `cargo test write_pytorch_fixtures -- --ignored`.
    #[test]
    #[ignore]
    fn write_pytorch_fixtures() {
        let _serial = crate::burn_serial();
        let out = std::path::PathBuf::from(std::env::var("DUPLAB_FIXTURE_OUT").unwrap());
        for kind in ModelKind::ALL {
            let (net, info) = fixture(kind);
            let dir = out.join(kind.name());
            std::fs::create_dir_all(&dir).unwrap();
            write(&net, &info, &dir.join("model.safetensors")).unwrap();
            let (x, dims) = images(kind);
            let bytes = f32_bytes(&x);
            let view = TensorView::new(Dtype::F32, dims.to_vec(), &bytes).unwrap();
            safetensors::serialize_to_file(
                [("images", view)],
                None,
                &dir.join("images.safetensors"),
            )
            .unwrap();
            let ours = logits(&net, kind);
            std::fs::write(
                dir.join("duplab_logits.json"),
                serde_json::to_string(&ours).unwrap(),
            )
            .unwrap();
        }
    }
}
