// Wire types of the OpenAI-compatible API: what clients send and what they get back.
//
// Field names are OpenAI's (snake_case). Only fields that change what we compute are decoded;
// unknown fields are ignored, as OpenAI-compatible servers (llama.cpp, ollama) do.

import RWKV

/// `stop` may be a string or an array of strings.
struct StopSequences: Decodable, Sendable {
    var values: [String]

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode(String.self) { values = [one] } else { values = try c.decode([String].self) }
    }
}

/// `prompt` may be a string or an array with one string.
struct PromptText: Decodable, Sendable {
    var text: String

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode(String.self) { text = one; return }
        let many = try c.decode([String].self)
        guard many.count == 1 else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "prompt arrays must hold exactly one string (batch prompts are not supported)")
        }
        text = many[0]
    }
}

/// Sampling fields shared by both endpoints.
struct SamplingFields: Decodable, Sendable {
    var max_tokens: Int?
    var max_completion_tokens: Int?
    var temperature: Double?
    var top_p: Double?
    var top_k: Int?
    var presence_penalty: Double?
    var frequency_penalty: Double?
    var penalty_decay: Double?
    var stop: StopSequences?
    var seed: UInt64?
    var stream: Bool?
}

struct CompletionRequest: Decodable, Sendable {
    var model: String?
    var prompt: PromptText
    var fields: SamplingFields

    enum CodingKeys: String, CodingKey { case model, prompt }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        prompt = try c.decode(PromptText.self, forKey: .prompt)
        fields = try SamplingFields(from: decoder)
    }
}

struct ChatRequest: Decodable, Sendable {
    struct Message: Decodable, Sendable {
        var role: String
        var content: String?
    }

    var model: String?
    var messages: [Message]
    var fields: SamplingFields

    enum CodingKeys: String, CodingKey { case model, messages }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        messages = try c.decode([Message].self, forKey: .messages)
        fields = try SamplingFields(from: decoder)
    }
}

struct Usage: Codable, Sendable, Equatable {
    var prompt_tokens: Int
    var completion_tokens: Int
    var total_tokens: Int
}

struct CompletionResponse: Codable, Sendable {
    struct Choice: Codable, Sendable {
        var text: String
        var index: Int
        var finish_reason: String?
    }

    var id: String
    var object: String
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage?
}

struct ChatResponse: Codable, Sendable {
    struct Message: Codable, Sendable {
        var role: String
        var content: String
    }

    struct Choice: Codable, Sendable {
        var index: Int
        var message: Message
        var finish_reason: String
    }

    var id: String
    var object: String
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage
}

struct ChatChunk: Codable, Sendable {
    struct Delta: Codable, Sendable {
        var role: String?
        var content: String?
    }

    struct Choice: Codable, Sendable {
        var index: Int
        var delta: Delta
        var finish_reason: String?
    }

    var id: String
    var object: String
    var created: Int
    var model: String
    var choices: [Choice]
}

struct ModelList: Codable, Sendable {
    struct Entry: Codable, Sendable {
        var id: String
        var object: String
        var created: Int
        var owned_by: String
    }

    var object: String
    var data: [Entry]
}

extension StopReason {
    /// OpenAI's `finish_reason`.
    var openAIName: String { self == .length ? "length" : "stop" }
}
