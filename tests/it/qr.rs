//! QR codes of a link's short URL: the PNG decodes with an ordinary reader
//! (`zbarimg`, Debian zbar-tools, which `.ci/run` installs) to exactly the
//! short URL; the SVG is an SVG; sizes are bounded.

use lanterne::users::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestApp;

#[tokio::test]
async fn the_png_qr_code_decodes_with_zbarimg_to_exactly_the_short_url() {
    let app = TestApp::spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/", "slug": "Flyer-26"}))
        .await;
    let id = link["id"].as_i64().unwrap();
    let viewer = app.token(Role::Viewer).await;
    let res = app
        .api(
            Method::GET,
            &format!("/api/v1/links/{id}/qr.png?size=256"),
            &viewer,
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let bytes = res.bytes().await.unwrap();
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (256, 256));

    let path = std::env::temp_dir().join(format!("lanterne-qr-{}.png", app.database));
    std::fs::write(&path, &bytes).unwrap();
    let out = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(&path)
        .output()
        .expect("zbarimg is installed (apt-get install zbar-tools; .ci/run does)");
    std::fs::remove_file(&path).ok();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoded = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        decoded.trim_end_matches('\n'),
        link["short_url"].as_str().unwrap()
    );
}

#[tokio::test]
async fn the_svg_qr_code_is_an_svg_and_a_size_out_of_bounds_is_refused() {
    let app = TestApp::spawn().await;
    let link = app
        .new_link(json!({"destination": "https://shop.example/"}))
        .await;
    let id = link["id"].as_i64().unwrap();
    let res = app.api_get(&format!("/api/v1/links/{id}/qr.svg")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let svg = res.text().await.unwrap();
    assert!(
        svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(
        svg.contains(r#"width="512" height="512""#),
        "the default size: {svg}"
    );
    assert!(svg.trim_end().ends_with("</svg>"));

    for size in ["127", "2049", "0"] {
        let res = app
            .api_get(&format!("/api/v1/links/{id}/qr.png?size={size}"))
            .await;
        assert_eq!(res.status(), 400, "size {size}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["field"], "size");
    }
    let res = app.api_get("/api/v1/links/999999/qr.svg").await;
    assert_eq!(res.status(), 404);
    let res = app
        .client
        .get(format!("{}/api/v1/links/{id}/qr.svg", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a token is needed");
}
