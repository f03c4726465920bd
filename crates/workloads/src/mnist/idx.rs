//! Reading the IDX files MNIST is distributed in (gzipped or not).
//!
//! The format is a 4-byte magic (two zero bytes, a type code, the number of dimensions), one
//! big-endian `u32` per dimension, then the unsigned bytes in row-major order. Only the two
//! shapes MNIST uses are accepted: images (`0x00000803`, count x 28 x 28) and labels
//! (`0x00000801`, count). Every error names the file, because a user pointing `--mnist-dir`
//! at a folder needs to know which of four files is at fault.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// Side length of an MNIST image; the network's input width is its square.
pub const IMAGE_SIDE: usize = 28;
/// Pixels per image, the width of the perceptron's input layer.
pub const PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// Magic number of an IDX file of unsigned bytes in three dimensions (the images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes in one dimension (the labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What went wrong reading MNIST, always with the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file starts like gzip but does not decompress.
    #[error("{file}: corrupt gzip stream: {source}")]
    Gzip {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The first four bytes are not the magic number of the expected kind of file.
    #[error("{file}: bad magic number {found} (expected {expected:#010x}, {kind}); is this an MNIST IDX file?")]
    BadMagic {
        file: String,
        /// What was there, in hex, or a note that the file is shorter than four bytes.
        found: String,
        expected: u32,
        kind: &'static str,
    },
    /// The file ends before its header or its data does.
    #[error("{file}: truncated: {what} needs {expected} bytes, the file has {found}")]
    Truncated {
        file: String,
        what: &'static str,
        expected: usize,
        found: usize,
    },
    /// Bytes left over after the data the header announces.
    #[error("{file}: {extra} unexpected bytes after the {count} items the header announces")]
    TrailingBytes {
        file: String,
        count: usize,
        extra: usize,
    },
    /// Images that are not 28 x 28.
    #[error("{file}: images are {rows}x{cols} pixels, MNIST's are {IMAGE_SIDE}x{IMAGE_SIDE}")]
    WrongDimensions {
        file: String,
        rows: usize,
        cols: usize,
    },
    /// A label outside 0..=9.
    #[error("{file}: label {label} at index {index} is not a digit 0-9")]
    BadLabel {
        file: String,
        index: usize,
        label: u8,
    },
    /// The images and labels files disagree on how many digits there are.
    #[error("{images_file} holds {images} images but {labels_file} holds {labels} labels")]
    CountMismatch {
        images_file: String,
        images: usize,
        labels_file: String,
        labels: usize,
    },
    /// None of the accepted names for a file exists in a directory.
    #[error("{dir}: no {what} file (looked for {tried})")]
    Missing {
        dir: String,
        what: &'static str,
        tried: String,
    },
}

/// Images as raw grey levels, row-major, [`PIXELS`] bytes per image.
#[derive(Clone, PartialEq, Eq)]
pub struct RawImages {
    pub pixels: Vec<u8>,
    pub count: usize,
}

impl fmt::Debug for RawImages {
    // Megabytes of pixels are useless in a failing assertion's output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawImages {{ count: {} }}", self.count)
    }
}

/// Reads an images file from disk.
pub fn read_images_file(path: &Path) -> Result<RawImages, IdxError> {
    let name = path.display().to_string();
    parse_images(&read_file(path)?, &name)
}

/// Reads a labels file from disk.
pub fn read_labels_file(path: &Path) -> Result<Vec<u8>, IdxError> {
    let name = path.display().to_string();
    parse_labels(&read_file(path)?, &name)
}

/// Parses an images file already in memory; `name` is what errors call it.
pub fn parse_images(bytes: &[u8], name: &str) -> Result<RawImages, IdxError> {
    let bytes = decompress(bytes, name)?;
    let (dims, data) = parse_header(&bytes, name, IMAGES_MAGIC, "unsigned bytes, 3 dimensions")?;
    let [count, rows, cols] = [dims[0], dims[1], dims[2]];
    if rows != IMAGE_SIDE || cols != IMAGE_SIDE {
        return Err(IdxError::WrongDimensions {
            file: name.to_owned(),
            rows,
            cols,
        });
    }
    let pixels = take_exact(data, count, PIXELS, name, "the image data")?;
    Ok(RawImages {
        pixels: pixels.to_vec(),
        count,
    })
}

/// Parses a labels file already in memory; `name` is what errors call it.
pub fn parse_labels(bytes: &[u8], name: &str) -> Result<Vec<u8>, IdxError> {
    let bytes = decompress(bytes, name)?;
    let (dims, data) = parse_header(&bytes, name, LABELS_MAGIC, "unsigned bytes, 1 dimension")?;
    let labels = take_exact(data, dims[0], 1, name, "the label data")?;
    if let Some(index) = labels.iter().position(|&l| l > 9) {
        return Err(IdxError::BadLabel {
            file: name.to_owned(),
            index,
            label: labels[index],
        });
    }
    Ok(labels.to_vec())
}

fn read_file(path: &Path) -> Result<Vec<u8>, IdxError> {
    std::fs::read(path).map_err(|source| IdxError::Io {
        file: path.display().to_string(),
        source,
    })
}

/// Gzip is recognised by its magic rather than the file name, so that a decompressed file
/// that kept its `.gz` name (or the reverse) still loads.
fn decompress<'a>(bytes: &'a [u8], name: &str) -> Result<std::borrow::Cow<'a, [u8]>, IdxError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|source| IdxError::Gzip {
            file: name.to_owned(),
            source,
        })?;
    Ok(std::borrow::Cow::Owned(out))
}

/// Checks the magic and returns the dimensions and the bytes after the header.
fn parse_header<'a>(
    bytes: &'a [u8],
    name: &str,
    magic: u32,
    kind: &'static str,
) -> Result<(Vec<usize>, &'a [u8]), IdxError> {
    let bad_magic = |found: String| IdxError::BadMagic {
        file: name.to_owned(),
        found,
        expected: magic,
        kind,
    };
    let Some(head) = bytes.get(..4) else {
        return Err(bad_magic(format!("(file is only {} bytes)", bytes.len())));
    };
    let found = u32::from_be_bytes(head.try_into().expect("four bytes"));
    if found != magic {
        return Err(bad_magic(format!("{found:#010x}")));
    }
    let ndims = (magic & 0xff) as usize;
    let header_len = 4 + 4 * ndims;
    if bytes.len() < header_len {
        return Err(IdxError::Truncated {
            file: name.to_owned(),
            what: "the header",
            expected: header_len,
            found: bytes.len(),
        });
    }
    let dims = bytes[4..header_len]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes(c.try_into().expect("four bytes")) as usize)
        .collect();
    Ok((dims, &bytes[header_len..]))
}

/// The data part must hold exactly `count` items of `item_len` bytes: fewer means a cut-off
/// download, more means the header and the data disagree.
fn take_exact<'a>(
    data: &'a [u8],
    count: usize,
    item_len: usize,
    name: &str,
    what: &'static str,
) -> Result<&'a [u8], IdxError> {
    let expected = count.saturating_mul(item_len);
    match data.len().cmp(&expected) {
        std::cmp::Ordering::Less => Err(IdxError::Truncated {
            file: name.to_owned(),
            what,
            expected,
            found: data.len(),
        }),
        std::cmp::Ordering::Greater => Err(IdxError::TrailingBytes {
            file: name.to_owned(),
            count,
            extra: data.len() - expected,
        }),
        std::cmp::Ordering::Equal => Ok(data),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    use std::path::PathBuf;

    /// A fresh directory under the system temp dir, removed on drop; avoids a dev-dependency.
    pub(crate) struct TempDir(pub PathBuf);

    impl TempDir {
        pub(crate) fn new(tag: &str) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("workloads-mnist-{tag}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    pub(crate) fn idx_bytes(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = magic.to_be_bytes().to_vec();
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    /// `n` images whose pixels are a function of image and position, so mixing them up shows.
    pub(crate) fn image_data(n: usize) -> Vec<u8> {
        (0..n * PIXELS)
            .map(|i| ((i / PIXELS) * 7 + i % 251) as u8)
            .collect()
    }

    fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn reads_plain_and_gzipped_files_alike() {
        let dir = TempDir::new("idx-ok");
        let pixels = image_data(3);
        let images = idx_bytes(IMAGES_MAGIC, &[3, 28, 28], &pixels);
        let labels = idx_bytes(LABELS_MAGIC, &[3], &[7, 0, 9]);
        for (suffix, enc) in [("", false), (".gz", true)] {
            let img = if enc { gzip(&images) } else { images.clone() };
            let lab = if enc { gzip(&labels) } else { labels.clone() };
            let ip = write(&dir, &format!("images{suffix}"), &img);
            let lp = write(&dir, &format!("labels{suffix}"), &lab);
            let got = read_images_file(&ip).unwrap();
            assert_eq!(got.count, 3);
            assert_eq!(got.pixels, pixels);
            assert_eq!(read_labels_file(&lp).unwrap(), vec![7, 0, 9]);
        }
        // Detection is by content: a gzipped file without the suffix still loads.
        let ip = write(&dir, "images-no-suffix", &gzip(&images));
        assert_eq!(read_images_file(&ip).unwrap().pixels, pixels);
    }

    #[test]
    fn bad_magic_names_the_file_and_the_magic() {
        let dir = TempDir::new("idx-magic");
        // A labels file where images are expected: the classic mix-up.
        let path = write(
            &dir,
            "train-images-idx3-ubyte",
            &idx_bytes(LABELS_MAGIC, &[1], &[3]),
        );
        let err = read_images_file(&path).unwrap_err();
        assert!(matches!(err, IdxError::BadMagic { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("train-images-idx3-ubyte"), "{msg}");
        assert!(
            msg.contains("0x00000801") && msg.contains("0x00000803"),
            "{msg}"
        );
        // Too short to even hold a magic number.
        let path = write(&dir, "tiny", &[0, 0]);
        let err = read_labels_file(&path).unwrap_err();
        assert!(matches!(err, IdxError::BadMagic { .. }), "{err:?}");
        assert!(err.to_string().contains("only 2 bytes"), "{err}");
    }

    #[test]
    fn truncated_header_and_data_are_reported_with_sizes() {
        let dir = TempDir::new("idx-trunc");
        let mut full = idx_bytes(IMAGES_MAGIC, &[2, 28, 28], &image_data(2));
        full.truncate(full.len() - 100);
        let path = write(&dir, "cut.gz", &gzip(&full));
        let err = read_images_file(&path).unwrap_err();
        match &err {
            IdxError::Truncated {
                file,
                expected,
                found,
                ..
            } => {
                assert!(file.ends_with("cut.gz"));
                assert_eq!((*expected, *found), (2 * PIXELS, 2 * PIXELS - 100));
            }
            other => panic!("expected Truncated, got {other:?}"),
        }
        let path = write(&dir, "header", &idx_bytes(IMAGES_MAGIC, &[2, 28], &[]));
        let err = read_images_file(&path).unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::Truncated {
                    what: "the header",
                    expected: 16,
                    found: 12,
                    ..
                }
            ),
            "{err:?}"
        );
        // A gzip stream cut short is a gzip error, not a silent short read.
        let gz = gzip(&idx_bytes(LABELS_MAGIC, &[3], &[1, 2, 3]));
        let path = write(&dir, "cut-stream.gz", &gz[..gz.len() - 6]);
        let err = read_labels_file(&path).unwrap_err();
        assert!(matches!(err, IdxError::Gzip { .. }), "{err:?}");
        assert!(err.to_string().contains("cut-stream.gz"), "{err}");
    }

    #[test]
    fn extra_bytes_and_bad_labels_are_errors() {
        let err = parse_labels(&idx_bytes(LABELS_MAGIC, &[2], &[1, 2, 3]), "lab").unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::TrailingBytes {
                    extra: 1,
                    count: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = parse_labels(&idx_bytes(LABELS_MAGIC, &[3], &[1, 12, 3]), "lab").unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::BadLabel {
                    index: 1,
                    label: 12,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn wrong_image_dimensions_are_rejected() {
        let bytes = idx_bytes(IMAGES_MAGIC, &[1, 32, 32], &[0; 32 * 32]);
        let err = parse_images(&bytes, "cifar-ish").unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::WrongDimensions {
                    rows: 32,
                    cols: 32,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("cifar-ish"), "{err}");
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let dir = TempDir::new("idx-missing");
        let err = read_labels_file(&dir.0.join("nope")).unwrap_err();
        assert!(matches!(err, IdxError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
