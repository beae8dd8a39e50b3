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

/// `prompt`: a string, a list of strings, a list of token ids, or a list of token-id lists (one choice each).
enum PromptInput: Decodable, Sendable {
    case texts([String])
    case tokens([[Int]])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode(String.self) { self = .texts([one]); return }
        if let many = try? c.decode([String].self) { self = .texts(many); return }
        if let ids = try? c.decode([Int].self) { self = .tokens([ids]); return }
        if let lists = try? c.decode([[Int]].self) { self = .tokens(lists); return }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "prompt must be a string, a list of strings, a list of token ids or a list of token-id lists")
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
    var prompt: PromptInput
    var n: Int?
    var echo: Bool?
    var logprobs: Int?
    var fields: SamplingFields

    enum CodingKeys: String, CodingKey { case model, prompt, n, echo, logprobs }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        prompt = try c.decode(PromptInput.self, forKey: .prompt)
        n = try c.decodeIfPresent(Int.self, forKey: .n)
        echo = try c.decodeIfPresent(Bool.self, forKey: .echo)
        logprobs = try c.decodeIfPresent(Int.self, forKey: .logprobs)
        fields = try SamplingFields(from: decoder)
    }
}

/// The legacy completions `logprobs` object.
struct CompletionLogprobs: Codable, Sendable {
    var tokens: [String]
    var token_logprobs: [Double?]
    var top_logprobs: [[String: Double]?]
    var text_offset: [Int]
}

struct TokenizeRequest: Decodable, Sendable {
    var prompt: String?
    var content: String?
    var add_special_tokens: Bool?
}

struct TokenizerInfo: Encodable, Sendable {
    var eos_token: String, bos_token: String, pad_token: String
    var eos_token_id: Int?, vocab_size: Int, chat_template: String
}

struct DetokenizeRequest: Decodable, Sendable {
    var tokens: [Int]
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
        var logprobs: CompletionLogprobs? = nil
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
