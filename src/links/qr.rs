//! QR codes of short URLs, as SVG (also inline in a page) and PNG. Owns the
//! size bounds and the print choices: error correction level Q (a quarter
//! of the code may be smudged, torn or covered and it still scans; H would
//! make it denser for little gain on paper) and the four-module quiet zone
//! readers need. Pure: no I/O. Generated with the `qrcode` crate.

use std::io::Cursor;

use image::{ImageBuffer, ImageFormat, Luma, imageops};
use qrcode::{EcLevel, QrCode, render::svg};

/// Smallest size accepted (pixels).
pub const MIN_SIZE: u32 = 128;
/// Largest size accepted (pixels): enough for print at 300 dpi up to ~17 cm.
pub const MAX_SIZE: u32 = 2048;
/// Size when none is asked for.
pub const DEFAULT_SIZE: u32 = 512;

/// Why a QR code could not be made.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// `size` outside the bounds.
    #[error("size must be between {MIN_SIZE} and {MAX_SIZE} pixels")]
    SizeOutOfRange,
    /// The text does not fit a QR code.
    #[error("the URL cannot be encoded: {0}")]
    Encode(#[from] qrcode::types::QrError),
    /// PNG encoding failed.
    #[error("PNG encoding failed: {0}")]
    Png(#[from] image::ImageError),
}

/// A width (and height) in pixels, within the bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QrSize(u32);

impl QrSize {
    /// The size asked for, or the default one.
    pub fn parse(raw: Option<u32>) -> Result<QrSize, QrError> {
        match raw.unwrap_or(DEFAULT_SIZE) {
            s @ MIN_SIZE..=MAX_SIZE => Ok(QrSize(s)),
            _ => Err(QrError::SizeOutOfRange),
        }
    }

    /// Pixels.
    pub fn get(self) -> u32 {
        self.0
    }
}

fn encode(text: &str) -> Result<QrCode, QrError> {
    Ok(QrCode::with_error_correction_level(text, EcLevel::Q)?)
}

/// A standalone SVG document (with its XML declaration), `size` pixels wide.
pub fn svg(text: &str, size: QrSize) -> Result<String, QrError> {
    let code = encode(text)?;
    // One unit per module: the viewBox counts modules, and the width and
    // height say how large to draw it (the pinned qrcode 0.14 writes them
    // once, in the `<svg>` tag).
    let image = code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .module_dimensions(1, 1)
        .build();
    let w = code.width() as u32 + 8;
    let from = format!(r#" width="{w}" height="{w}" viewBox"#);
    let to = format!(r#" width="{0}" height="{0}" viewBox"#, size.get());
    Ok(image.replacen(&from, &to, 1))
}

/// The same SVG without its XML declaration, to place inside an HTML page.
pub fn inline_svg(text: &str, size: QrSize) -> Result<String, QrError> {
    let doc = svg(text, size)?;
    Ok(match doc.find("<svg") {
        Some(at) => doc[at..].to_owned(),
        None => doc,
    })
}

/// A PNG, exactly `size` pixels square: whole pixels per module (sharp
/// edges for scanners), centred on white.
pub fn png(text: &str, size: QrSize) -> Result<Vec<u8>, QrError> {
    let code = encode(text)?;
    let s = size.get();
    let drawn = code
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .max_dimensions(s, s)
        .build();
    let mut canvas = ImageBuffer::from_pixel(s, s, Luma([255u8]));
    let x = (s - drawn.width().min(s)) / 2;
    let y = (s - drawn.height().min(s)) / 2;
    imageops::overlay(&mut canvas, &drawn, x.into(), y.into());
    let mut out = Vec::new();
    canvas.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://lnt.example/Ab3dE7k";

    #[test]
    fn sizes_are_bounded_and_default_to_512() {
        assert_eq!(QrSize::parse(None).unwrap().get(), 512);
        assert_eq!(QrSize::parse(Some(128)).unwrap().get(), 128);
        assert_eq!(QrSize::parse(Some(2048)).unwrap().get(), 2048);
        assert!(QrSize::parse(Some(127)).is_err());
        assert!(QrSize::parse(Some(2049)).is_err());
    }

    #[test]
    fn the_svg_is_drawn_at_the_size_asked_and_the_inline_one_has_no_prologue() {
        let doc = svg(URL, QrSize::parse(Some(300)).unwrap()).unwrap();
        assert!(doc.starts_with("<?xml"), "{doc}");
        assert!(
            doc.contains(r#" width="300" height="300" viewBox="0 0 "#),
            "{doc}"
        );
        let inline = inline_svg(URL, QrSize::parse(None).unwrap()).unwrap();
        assert!(inline.starts_with("<svg "), "{inline}");
        assert!(inline.ends_with("</svg>"));
    }

    #[test]
    fn the_png_is_exactly_the_size_asked() {
        let bytes = png(URL, QrSize::parse(Some(200)).unwrap()).unwrap();
        let img = image::load_from_memory_with_format(&bytes, ImageFormat::Png).unwrap();
        assert_eq!((img.width(), img.height()), (200, 200));
    }
}
