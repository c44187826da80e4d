//! The report's figure as a standalone SVG: test accuracy against sparsity, one line per
//! method. Written by hand so the CLI needs no font or plotting stack.

use super::SweepReport;
use crate::prune::Method;

const W: f64 = 720.0;
const H: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 160.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

/// For sweeps that compare scopes: one colour per line.
const PALETTE: [&str; 6] = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#d62728", "#8c564b"];

fn colour(m: Method) -> &'static str {
    match m {
        Method::Weight => "#1f77b4",
        Method::Neuron => "#d62728",
    }
}

/// Renders the sweep as SVG. `overlay` adds reference points (e.g. the report's published
/// numbers) as hollow markers, as `(label, [(sparsity %, accuracy 0..1)])`.
pub fn svg(result: &SweepReport, title: &str, overlay: &[(&str, &[(f64, f64)])]) -> String {
    let x = |k: f64| LEFT + k / 100.0 * (W - LEFT - RIGHT);
    let y = |a: f64| TOP + (1.0 - a) * (H - TOP - BOTTOM);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
        (LEFT + W - RIGHT) / 2.0,
        escape(title)
    );
    for i in 0..=10 {
        let a = i as f64 / 10.0;
        s += &format!("<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}%</text>\n", W - RIGHT, LEFT - 6.0, y(a) + 4.0, i * 10, y = y(a));
        let k = i as f64 * 10.0;
        s += &format!("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}%</text>\n", x(k), H - BOTTOM + 18.0, k);
    }
    s += &format!("<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n", W - LEFT - RIGHT, H - TOP - BOTTOM);
    s += &format!("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">sparsity (share pruned)</text>\n", (LEFT + W - RIGHT) / 2.0, H - 16.0);
    s += &format!("<text transform=\"translate(18 {}) rotate(-90)\" text-anchor=\"middle\">test accuracy</text>\n", (TOP + H - BOTTOM) / 2.0);
    let mut legend = 0;
    // Overlays are isolated published points: drawn as markers, never joined into a line.
    let mut line = |s: &mut String, label: &str, colour: &str, dash: &str, pts: &[(f64, f64)]| {
        let path: Vec<String> = pts.iter().map(|(k, a)| format!("{:.1},{:.1}", x(*k), y(*a))).collect();
        if dash == "none" {
            *s += &format!("<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\n", path.join(" "));
        }
        for (k, a) in pts {
            let r = if dash == "none" { 3 } else { 6 };
            *s += &format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r}\" fill=\"{}\" stroke=\"{colour}\" stroke-width=\"2\"><title>{k}%: {:.2}%</title></circle>\n", x(*k), y(*a), if dash == "none" { colour } else { "none" }, a * 100.0);
        }
        let ly = TOP + 10.0 + legend as f64 * 20.0;
        *s += &format!("<line x1=\"{}\" x2=\"{}\" y1=\"{ly}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>\n", W - RIGHT + 10.0, W - RIGHT + 34.0, if dash == "none" { "none" } else { "2 3" }, W - RIGHT + 40.0, ly + 4.0, escape(label));
        legend += 1;
    };
    // A method's own colour while there is one line per method; a palette for more.
    let one_per_method = result.config.scopes.len() < 2 && result.config.reconstruct.is_none();
    for (i, l) in result.config.lines().into_iter().enumerate() {
        let pts: Vec<(f64, f64)> = result.points.iter().filter(|p| l.has(p)).map(|p| (p.sparsity, p.accuracy as f64)).collect();
        let colour = if one_per_method { colour(l.method) } else { PALETTE[i % PALETTE.len()] };
        line(&mut s, &format!("{} pruning", l.name(&result.config)), colour, "none", &pts);
    }
    for (i, (label, pts)) in overlay.iter().enumerate() {
        line(&mut s, label, if i % 2 == 0 { "#1f77b4" } else { "#d62728" }, "marker", pts);
    }
    s + "</svg>\n"
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
