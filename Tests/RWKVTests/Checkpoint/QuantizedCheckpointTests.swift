// Quantised safetensors: written once, loaded in place, identical to quantising at load.

import Testing
@testable import RWKV

@Suite struct QuantizedCheckpointTests {
    @Test(arguments: [("v7/v7-b.pth", WeightFormat.q8_0), ("v7/v7-a.pth", .q4_0), ("v6/v6-a.pth", .q8_0)])
    func savedQuantizedModelEqualsQuantizingAtLoad(fixture: String, format: WeightFormat) throws {
        let source = try Checkpoint.load(path: TestPaths.fixture(fixture))
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("q.safetensors").path
        try source.quantized(to: format).writeSafetensors(to: path)
        let reloaded = try Checkpoint.load(path: path)
        #expect(reloaded.metadata["rwkv.weights"] == format.rawValue)
        #expect(reloaded.tensors["blocks.0.att.key.weight"]?.dtype == .uint8)
        let bytes = { (c: Checkpoint) in c.tensors.values.reduce(0) { $0 + $1.byteCount } }
        #expect(bytes(reloaded) < bytes(source))

        let fromFile = try RWKVModel(checkpoint: reloaded)
        let atLoad = try RWKVModel(checkpoint: source, options: LoadOptions(weightFormat: format))
        let tokens = [1, 5, 9, 200, 3, 77]
        var s1 = fromFile.makeState(), s2 = atLoad.makeState()
        let a = try fromFile.forward(tokens, state: &s1, allLogits: true), b = try atLoad.forward(tokens, state: &s2, allLogits: true)
        #expect(a.data == b.data)
        // And close to the unquantised model (the format's error, not a layout mix-up).
        let full = try RWKVModel(checkpoint: source)
        var s3 = full.makeState()
        let c = try full.forward(tokens, state: &s3, allLogits: true)
        let r = correlation(a.data, c.data)
        #expect(r > (format == .q8_0 ? 0.9999 : 0.95), "correlation with the float model \(r)")   // q4 on random weights: ~0.97
    }
}

private func correlation(_ x: [Float], _ y: [Float]) -> Double {
    let n = Double(x.count)
    let mx = x.reduce(0.0) { $0 + Double($1) } / n, my = y.reduce(0.0) { $0 + Double($1) } / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for i in x.indices {
        let dx = Double(x[i]) - mx, dy = Double(y[i]) - my
        sxy += dx * dy; sxx += dx * dx; syy += dy * dy
    }
    return sxy / (sxx * syy).squareRoot()
}
