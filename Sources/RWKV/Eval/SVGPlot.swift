// Small hand-written SVG charts for the evaluation reports: line plots (linear or log axes, several
// series, legend) and heat maps. No dependencies; the output is a self-contained file.

import Foundation

/// A line chart of one or more series.
public struct SVGLinePlot: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) { self.name = name; self.points = points }
    }

    public var title: String, xLabel: String, yLabel: String
    public var logX = false, logY = false
    public var series: [Series] = []
    /// Draw a dot at every point (useful when series have few points).
    public var markers = true

    public init(title: String, xLabel: String, yLabel: String, logX: Bool = false, logY: Bool = false) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.logX = logX; self.logY = logY
    }

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                          "#bcbd22", "#17becf", "#393b79", "#637939"]

    public var svg: String {
        let width = 760.0, height = 440.0, left = 70.0, right = 170.0, top = 34.0, bottom = 52.0
        func tx(_ x: Double) -> Double { logX ? log10(max(x, 1e-300)) : x }
        func ty(_ y: Double) -> Double { logY ? log10(max(y, 1e-300)) : y }
        let pts = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (!logX || $0.x > 0) && (!logY || $0.y > 0) }
        var (x0, x1) = (pts.map { tx($0.x) }.min() ?? 0, pts.map { tx($0.x) }.max() ?? 1)
        var (y0, y1) = (pts.map { ty($0.y) }.min() ?? 0, pts.map { ty($0.y) }.max() ?? 1)
        if x1 - x0 < 1e-12 { x0 -= 0.5; x1 += 0.5 }
        if y1 - y0 < 1e-12 { y0 -= 0.5; y1 += 0.5 }
        let pad = (y1 - y0) * 0.05
        y0 -= pad; y1 += pad
        func px(_ x: Double) -> Double { left + (tx(x) - x0) / (x1 - x0) * (width - left - right) }
        func py(_ y: Double) -> Double { top + (y1 - ty(y)) / (y1 - y0) * (height - top - bottom) }
        func label(_ v: Double, log: Bool) -> String {
            let value = log ? pow(10, v) : v
            return abs(value) >= 1e4 || (abs(value) < 1e-2 && value != 0) ? String(format: "%.2g", value) : String(format: "%.4g", value)
        }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int((width - right + left) / 2))" y="20" text-anchor="middle" font-size="14">\(escapeXML(title))</text>
        <line x1="\(left)" y1="\(height - bottom)" x2="\(width - right)" y2="\(height - bottom)" stroke="black"/>
        <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(height - bottom)" stroke="black"/>

        """
        for i in 0...5 {
            let yv = y0 + (y1 - y0) * Double(i) / 5, xv = x0 + (x1 - x0) * Double(i) / 5
            let yp = top + (y1 - yv) / (y1 - y0) * (height - top - bottom)
            let xp = left + (xv - x0) / (x1 - x0) * (width - left - right)
            s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", left, yp, width - right, yp)
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%@</text>\n", left - 6, yp + 4, label(yv, log: logY))
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%@</text>\n", xp, height - bottom + 18, label(xv, log: logX))
        }
        s += "<text x=\"\(Int((width - right + left) / 2))\" y=\"\(Int(height - 10))\" text-anchor=\"middle\">\(escapeXML(xLabel))</text>\n"
        s += "<text transform=\"translate(16,\(Int((height - bottom + top) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escapeXML(yLabel))</text>\n"
        for (k, line) in series.enumerated() {
            let color = Self.palette[k % Self.palette.count]
            let p = line.points.filter { $0.x.isFinite && $0.y.isFinite && (!logX || $0.x > 0) && (!logY || $0.y > 0) }
            let d = p.enumerated().map { i, q in (i == 0 ? "M" : " L") + String(format: "%.1f,%.1f", px(q.x), py(q.y)) }.joined()
            if !d.isEmpty { s += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>\n" }
            if markers { for q in p { s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%@\"/>\n", px(q.x), py(q.y), color) } }
            let ly = top + 8 + Double(k) * 16
            s += String(format: "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"3\" fill=\"%@\"/>", width - right + 12, ly - 4, color)
            s += String(format: "<text x=\"%.0f\" y=\"%.0f\">%@</text>\n", width - right + 28, ly, escapeXML(line.name))
        }
        return s + "</svg>\n"
    }
}

/// A heat map: `values[row][column]`, coloured on a log10 scale (dark blue = smallest, yellow = largest).
public struct SVGHeatMap: Sendable {
    public var title: String, rowLabel: String, columnLabel: String
    public var values: [[Double]]

    public init(title: String, rowLabel: String, columnLabel: String, values: [[Double]]) {
        self.title = title; self.rowLabel = rowLabel; self.columnLabel = columnLabel; self.values = values
    }

    static func color(_ t: Double) -> String {
        // Linear blend through dark blue → teal → yellow.
        let stops: [(Double, Double, Double)] = [(0.07, 0.04, 0.35), (0.13, 0.57, 0.55), (0.99, 0.91, 0.15)]
        let u = min(max(t, 0), 1) * 2, i = min(Int(u), 1), f = u - Double(i)
        let a = stops[i], b = stops[i + 1]
        return String(format: "#%02x%02x%02x", Int(255 * (a.0 + (b.0 - a.0) * f)), Int(255 * (a.1 + (b.1 - a.1) * f)),
                      Int(255 * (a.2 + (b.2 - a.2) * f)))
    }

    public var svg: String {
        let rows = values.count, cols = values.map(\.count).max() ?? 0
        let cell = max(8.0, min(28.0, 560.0 / Double(max(cols, 1)))), left = 60.0, top = 40.0
        let width = left + cell * Double(cols) + 120, height = top + cell * Double(rows) + 50
        let logs = values.flatMap { $0 }.filter { $0 > 0 && $0.isFinite }.map(log10)
        let lo = logs.min() ?? 0, hi = max(logs.max() ?? 1, lo + 1e-9)
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="20" text-anchor="middle" font-size="14">\(escapeXML(title))</text>

        """
        for r in 0..<rows {
            s += String(format: "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%d</text>\n", left - 4, top + cell * (Double(r) + 0.5) + 4, r)
            for (c, v) in values[r].enumerated() {
                let t = v > 0 && v.isFinite ? (log10(v) - lo) / (hi - lo) : 0
                s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"><title>%d,%d: %.4g</title></rect>\n",
                            left + cell * Double(c), top + cell * Double(r), cell, cell, Self.color(t), r, c, v)
            }
        }
        s += "<text x=\"\(Int(left + cell * Double(cols) / 2))\" y=\"\(Int(height - 14))\" text-anchor=\"middle\">\(escapeXML(columnLabel))</text>\n"
        s += "<text transform=\"translate(16,\(Int(top + cell * Double(rows) / 2))) rotate(-90)\" text-anchor=\"middle\">\(escapeXML(rowLabel))</text>\n"
        // Colour bar with its end values.
        let bx = left + cell * Double(cols) + 30
        for i in 0..<20 {
            s += String(format: "<rect x=\"%.0f\" y=\"%.1f\" width=\"14\" height=\"%.1f\" fill=\"%@\"/>\n", bx,
                        top + Double(19 - i) * cell * Double(rows) / 20, cell * Double(rows) / 20 + 0.5, Self.color(Double(i) / 19))
        }
        s += String(format: "<text x=\"%.0f\" y=\"%.0f\">%.3g</text>\n", bx + 18, top + 10, pow(10, hi))
        s += String(format: "<text x=\"%.0f\" y=\"%.0f\">%.3g</text>\n", bx + 18, top + cell * Double(rows), pow(10, lo))
        return s + "</svg>\n"
    }
}

func escapeXML(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
}
