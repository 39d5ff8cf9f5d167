// Sends one message to POST /cerebro/api/chat with the AI SDK's own chat engine (AbstractChat and
// DefaultChatTransport, what the minicontratos app's useChat runs), then asks to resume the chat as
// the app does on every chat page, and prints what the SDK made of it as one JSON document.
//
// Environment: CHAT_API (the endpoint's URL), TOKEN (a bearer token), CHAT_ID, TEXT, and optionally
// FILE_URL and FILE_MEDIA_TYPE (a file part, as the app's attachments send one).
import { AbstractChat, DefaultChatTransport } from "ai";

class MemoryState {
  constructor() {
    this.status = "ready";
    this.error = undefined;
    this.messages = [];
  }
  pushMessage(message) {
    this.messages = [...this.messages, message];
  }
  popMessage() {
    this.messages = this.messages.slice(0, -1);
  }
  replaceMessage(index, message) {
    this.messages = [...this.messages.slice(0, index), message, ...this.messages.slice(index + 1)];
  }
  snapshot(value) {
    return structuredClone(value);
  }
}

class Chat extends AbstractChat {
  constructor(init) {
    super({ ...init, state: new MemoryState() });
  }
}

const { CHAT_API, TOKEN, CHAT_ID, TEXT, FILE_URL, FILE_MEDIA_TYPE } = process.env;
const requests = [];
const errors = [];
const dataParts = [];

// As the app's fetch wrapper: a refused request throws an error named by the body's `code`.
async function fetchWithErrorHandlers(input, init) {
  const response = await fetch(input, init);
  requests.push({ method: init?.method ?? "GET", url: String(input), status: response.status });
  if (!response.ok) {
    const { code, cause } = await response.json();
    throw Object.assign(new Error(code), { cause });
  }
  return response;
}

const chat = new Chat({
  id: CHAT_ID,
  generateId: () => crypto.randomUUID(),
  transport: new DefaultChatTransport({
    api: CHAT_API,
    headers: { Authorization: `Bearer ${TOKEN}` },
    fetch: fetchWithErrorHandlers,
    // The body the app sends: its new message only, with its model and visibility choices.
    prepareSendMessagesRequest: (request) => ({
      body: {
        id: request.id,
        message: request.messages.at(-1),
        selectedChatModel: "chat-model",
        selectedVisibilityType: "private",
        ...request.body,
      },
    }),
  }),
  onError: (error) => errors.push({ message: error.message, cause: error.cause ?? null }),
  onData: (part) => dataParts.push(part),
});

const files = FILE_URL ? [{ type: "file", url: FILE_URL, mediaType: FILE_MEDIA_TYPE, filename: "attachment" }] : undefined;
await chat.sendMessage({ text: TEXT, files });
const afterSend = { status: chat.status, error: chat.error?.message ?? null, messages: chat.messages };
await chat.resumeStream();
console.log(
  JSON.stringify({ afterSend, statusAfterResume: chat.status, errors, dataParts, requests }, null, 1),
);
