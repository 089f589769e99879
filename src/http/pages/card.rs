//! `CardView`: a link's preview card as a chat app shows it — the bubble
//! the form renders beside the card's fields (and `assets/app.js` updates
//! as the marketer types), and the link page shows. Every value is text for
//! askama to escape; the image is shown only when it is an https URL.

use crate::links::{Link, Links, preview};

/// The mock of a chat message carrying the short link and its card.
#[derive(Debug, Clone)]
pub struct CardView {
    /// The card's title, else the link's title, else the destination (as
    /// the answer to a preview fetcher has it).
    pub title: String,
    /// The description, if any.
    pub description: Option<String>,
    /// The image, when it is an acceptable (https) URL.
    pub image_url: Option<String>,
    /// The short link's domain, as chat apps print it under the card.
    pub host: String,
    /// The message: the short URL (or what it will look like).
    pub message: String,
    /// Whether any of the three card fields is set.
    pub has_card: bool,
}

impl CardView {
    /// The bubble of a stored link.
    pub fn of_link(links: &Links, link: &Link) -> CardView {
        let p = link.preview_fields();
        CardView::new(
            p.title.as_deref(),
            link.title.as_deref(),
            &link.destination,
            p.description.as_deref(),
            p.image_url.as_deref(),
            &link.domain,
            links.short_url(link),
        )
    }

    /// The bubble of a form's values (possibly refused ones).
    pub fn new(
        card_title: Option<&str>,
        link_title: Option<&str>,
        destination: &str,
        description: Option<&str>,
        image_url: Option<&str>,
        host: &str,
        message: String,
    ) -> CardView {
        let set = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (card_title, description, image) = (set(card_title), set(description), set(image_url));
        let has_card = card_title.is_some() || description.is_some() || image.is_some();
        CardView {
            title: card_title
                .or_else(|| set(link_title))
                .unwrap_or_else(|| destination.trim().to_owned()),
            description,
            image_url: image.and_then(|i| preview::parse_image_url(Some(i)).ok().flatten()),
            host: host.to_owned(),
            message,
            has_card,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bubble_falls_back_to_the_link_title_then_the_destination_and_drops_http_images() {
        let m = || "https://go.example/x".to_owned();
        let v = CardView::new(
            Some(" "),
            Some("Winter sale"),
            "https://shop.example/",
            None,
            Some("http://cdn.example/a.png"),
            "go.example",
            m(),
        );
        assert_eq!(v.title, "Winter sale");
        assert_eq!(v.image_url, None, "only https images are shown");
        assert!(v.has_card, "a refused image is still a card being made");
        let v = CardView::new(
            None,
            None,
            "https://shop.example/",
            None,
            None,
            "go.example",
            m(),
        );
        assert_eq!(v.title, "https://shop.example/");
        assert!(!v.has_card);
        let v = CardView::new(
            Some("Soldes"),
            Some("Winter"),
            "https://shop.example/",
            Some("Tout à -50 %"),
            Some("https://cdn.example/a.png"),
            "go.example",
            m(),
        );
        assert_eq!(v.title, "Soldes");
        assert_eq!(v.image_url.as_deref(), Some("https://cdn.example/a.png"));
    }
}
