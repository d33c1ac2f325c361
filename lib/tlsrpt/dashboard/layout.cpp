// SPDX-License-Identifier: Apache-2.0
#include "tlsrpt/dashboard/layout.hpp"

#include "tlsrpt/dashboard/html.hpp"

namespace tlsrpt::dashboard::detail {

namespace {

// Colours chosen for at least 4.5:1 contrast of text on its background (WCAG 2.1 AA), and
// green/red told apart by lightness as well as hue; a dark scheme follows the system's.
constexpr std::string_view style = R"css(
:root{--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--card:#f6f8fa;--ok:#1a7f37;
--fail:#cf222e;--warn:#9a6700;--none:#d1d9e0;--okbg:#dafbe1;--failbg:#ffebe9;--warnbg:#fff8c5;
--link:#0757ba}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;
--line:#3d444d;--card:#151b23;--ok:#3fb950;--fail:#f85149;--warn:#d29922;--none:#3d444d;
--okbg:#12361f;--failbg:#3c1618;--warnbg:#362b0a;--link:#4493f8}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,"Noto Sans",sans-serif}
a{color:var(--link)}
header{border-bottom:1px solid var(--line);background:var(--card)}
header nav{max-width:72rem;margin:0 auto;padding:.6rem 1rem;display:flex;flex-wrap:wrap;
gap:.25rem 1.25rem;align-items:baseline}
header .brand{font-weight:600;margin-right:auto}
header a[aria-current]{font-weight:600;color:var(--fg);text-decoration:none}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0 .25rem;overflow-wrap:anywhere}
h2{font-size:1.2rem;margin:2rem 0 .5rem;padding-top:.5rem;border-top:1px solid var(--line)}
h3{font-size:1.05rem;margin:1.25rem 0 .25rem}
.range{color:var(--muted);margin:0 0 1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5rem,1fr));gap:.75rem;
margin:1rem 0;padding:0;list-style:none}
.cards li{background:var(--card);border:1px solid var(--line);border-radius:6px;
padding:.6rem .8rem}
.cards .v{display:block;font-size:1.35rem;font-weight:600}
.cards .k{color:var(--muted);font-size:.85rem}
.cards .v .why{font-size:.8rem;font-weight:400;margin-top:.2rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.5rem 0}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
caption{text-align:left;color:var(--muted);font-size:.9rem;padding:.25rem 0}
th,td{padding:.4rem .6rem;border-bottom:1px solid var(--line);text-align:left;
vertical-align:top}
th{font-weight:600;background:var(--card);white-space:nowrap}
td.n,th.n{text-align:right;white-space:nowrap}
td.name{overflow-wrap:anywhere;min-width:8rem;max-width:28rem}
.badge{display:inline-block;border-radius:1rem;padding:.05rem .6rem;font-size:.85rem;
font-weight:600;border:1px solid;white-space:nowrap}
.badge.ready{color:var(--ok);background:var(--okbg)}
.badge.partial{color:var(--warn);background:var(--warnbg)}
.badge.not-ready{color:var(--fail);background:var(--failbg);white-space:normal}
.badge.no-data{color:var(--muted);background:var(--card)}
.why{display:block;color:var(--muted);font-size:.85rem;overflow-wrap:anywhere;max-width:16rem}
.muted{color:var(--muted)}
.fail-text{color:var(--fail);font-weight:600}
svg{display:block}
svg.spark{width:124px;height:28px}
svg.chart{width:100%;height:auto;max-width:60rem}
svg .ok{fill:var(--ok)} svg .fail{fill:var(--fail)} svg .none{fill:var(--none)}
svg .grid{stroke:var(--line);stroke-width:1}
svg .axis{fill:var(--muted);font-size:12px}
svg .threshold{stroke:var(--warn);stroke-width:1.5;stroke-dasharray:6 4}
svg .rate{fill:none;stroke:var(--fail);stroke-width:2}
svg .dot{fill:var(--ok)} svg .dot.over{fill:var(--fail)}
.legend{display:flex;flex-wrap:wrap;gap:1rem;color:var(--muted);font-size:.85rem;margin:.25rem 0;
padding:0;list-style:none}
.legend i{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.3rem;
vertical-align:-1px}
.legend .ok{background:var(--ok)} .legend .fail{background:var(--fail)}
.legend .none{background:var(--none)}
.legend .thr{border-top:2px dashed var(--warn);height:0;border-radius:0}
details{margin:.25rem 0}
summary{cursor:pointer;color:var(--link)}
td summary{white-space:nowrap} td .finding summary{white-space:normal}
th[scope=row]{background:none}
pre{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.6rem;
max-height:28rem;overflow:auto;font-size:.8rem;white-space:pre-wrap;overflow-wrap:anywhere;
max-width:calc(100vw - 3rem)}
.explain{background:var(--card);border-left:4px solid var(--fail);padding:.4rem .8rem;
margin:.25rem 0 .5rem}
.explain p{margin:.2rem 0}
code{font-size:.9em}
section.domain{margin-top:2.5rem}
footer{max-width:72rem;margin:2rem auto;padding:0 1rem;color:var(--muted);font-size:.85rem}
@media (max-width:40rem){body{font-size:14px}th,td{padding:.35rem .4rem}main{padding:.6rem}}
)css";

}  // namespace

std::string document(std::string_view title, const nav_links& nav, const std::string& body,
                     std::string_view generated_at) {
  std::string s;
  s.reserve(body.size() + 8192);
  s += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  s += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  s += "<meta http-equiv=\"Content-Security-Policy\" content=\"";
  s += content_security_policy;
  s += "\">\n<meta name=\"referrer\" content=\"no-referrer\">\n<title>";
  s += html::escape(title);
  s += "</title>\n<style>";
  s += style;
  s += "</style>\n</head>\n<body>\n<header><nav aria-label=\"Pages\">"
       "<span class=\"brand\">tlsrpt-collector</span>";
  const auto item = [&](std::string_view name, const std::string& href, std::string_view label) {
    s += "<a href=\"" + href + "\"";
    if (nav.current == name) s += " aria-current=\"page\"";
    s += ">";
    s += label;
    s += "</a>";
  };
  item("overview", nav.overview, "Overview");
  item("messages", nav.messages, "Messages");
  s += "</nav></header>\n<main>\n";
  s += body;
  s += "</main>\n<footer>Generated ";
  s += html::escape(generated_at);
  s += " by tlsrpt-collector. All times and days are UTC.</footer>\n</body>\n</html>\n";
  return s;
}

}  // namespace tlsrpt::dashboard::detail
