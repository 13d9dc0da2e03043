//! `GET /`, `/console.js`, `/day.js`, `/channels.js`, `/console.css`, `/console.svg`: the operator console,
//! embedded in the bundle (see docs/console.md for why not Workers Static Assets). Served to anyone: it holds no data and no secret;
//! everything it shows comes from the operator API, behind the bearer token.

use crate::web::http::Reply;
use crate::web::routes::Asset;

const PAGE: &str = include_str!("../console/index.html");
const SCRIPT: &str = include_str!("../console/console.js");
const DAY_SCRIPT: &str = include_str!("../console/day.js");
const CHANNELS_SCRIPT: &str = include_str!("../console/channels.js");
const STYLE: &str = include_str!("../console/console.css");
const ICON: &str = include_str!("../console/icon.svg");

pub fn handle(asset: Asset) -> Reply {
    let (content_type, body) = match asset {
        Asset::Page => ("text/html; charset=utf-8", PAGE),
        Asset::Script => ("text/javascript; charset=utf-8", SCRIPT),
        Asset::DayScript => ("text/javascript; charset=utf-8", DAY_SCRIPT),
        Asset::ChannelsScript => ("text/javascript; charset=utf-8", CHANNELS_SCRIPT),
        Asset::Style => ("text/css; charset=utf-8", STYLE),
        Asset::Icon => ("image/svg+xml", ICON),
    };
    Reply::console_file(content_type, body)
}
