// Hugging Face v6 and fla v7 files map back to exactly the official tensors (names, shapes, bytes).

import Testing
@testable import RWKV

@Suite struct LayoutMappingTests {
    @Test(arguments: [("v6/v6-a-hf.safetensors", "v6/v6-a.pth", WeightLayout.huggingFaceV6), ("v7/v7-a-fla.safetensors", "v7/v7-a.pth", .flaV7)])
    func mapsToOfficialTensorsBitExactly(foreign: String, official: String, layout: WeightLayout) throws {
        let mapped = try Checkpoint.load(path: TestPaths.fixture(foreign))
        #expect(WeightLayout.detect(mapped.tensors.keys) == layout)
        let converted = try mapped.inOfficialLayout().tensors
        var reference = try Checkpoint.load(path: TestPaths.fixture(official)).tensors
        if layout == .flaV7 {
            // fla drops the unused layer-0 value-residual LoRA.
            for n in ["v0", "v1", "v2"] { reference["blocks.0.att.\(n)"] = nil }
        }
        #expect(Set(converted.keys) == Set(reference.keys))
        for (name, t) in reference {
            guard let c = converted[name] else { continue }
            #expect(c.count == t.count && c.dtype == t.dtype, "\(name)")
            #expect(c.shape.filter { $0 != 1 } == t.shape.filter { $0 != 1 }, "\(name): \(c.shape) vs \(t.shape)")
            #expect(c.rawBytes.elementsEqual(t.rawBytes), "\(name) bytes differ")
        }
    }

    @Test func officialFilesAreLeftAlone() throws {
        let c = try Checkpoint.load(path: TestPaths.fixture("v7/v7-b.pth"))
        #expect(WeightLayout.detect(c.tensors.keys) == .official)
        #expect(Set(try c.inOfficialLayout().tensors.keys) == Set(c.tensors.keys))
    }
}
