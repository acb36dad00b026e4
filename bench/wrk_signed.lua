-- wrk script: every request is a distinct WooCommerce order webhook, signed like WooCommerce
-- signs it (base64 of HMAC-SHA256 over the raw body, X-WC-Webhook-Signature).
--
-- Bodies are made on the fly from a template: BENCH_BODY_PREFIX .. <unique id> ..
-- BENCH_BODY_SUFFIX (files written by bench/bench_webhook.py), the id being
-- thread number * 10^9 + request counter, so no two requests carry the same body and none is
-- deduplicated. The HMAC is computed by OpenSSL's libcrypto through LuaJIT's FFI (wrk links
-- libcrypto already), a few microseconds per request: the load generator stays cheap.
--
-- Environment: BENCH_WEBHOOK_SECRET, BENCH_BODY_PREFIX, BENCH_BODY_SUFFIX (file paths).
-- At the end, done() prints one line "BENCH_JSON {...}" with requests/s, latency percentiles
-- (microseconds) and the count of answers below 400 (wrk counts status >= 400 as errors).

local ffi = require("ffi")

ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                    const unsigned char *d, size_t n, unsigned char *md, unsigned int *md_len);
int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n);
]]

local function crypto_library()
  local ok = pcall(function() return ffi.C.EVP_sha256 end)
  if ok then
    return ffi.C
  end
  return ffi.load("libcrypto.so.3")
end

local function read_file(path)
  local handle = assert(io.open(assert(path, "missing body template path"), "rb"))
  local data = handle:read("*a")
  handle:close()
  return data
end

local threads = {}
local thread_counter = 0

function setup(thread)
  thread:set("thread_number", thread_counter)
  thread_counter = thread_counter + 1
  table.insert(threads, thread)
end

local crypto, secret, prefix, suffix, digest, digest_len, encoded
local counter = 0
local headers = {
  ["Content-Type"] = "application/json",
  ["X-WC-Webhook-Source"] = "https://shop.example.com/",
  ["X-WC-Webhook-Topic"] = "order.created",
  ["X-WC-Webhook-Resource"] = "order",
  ["X-WC-Webhook-Event"] = "created",
  ["X-WC-Webhook-ID"] = "17",
}

function init(args)
  crypto = crypto_library()
  secret = assert(os.getenv("BENCH_WEBHOOK_SECRET"), "BENCH_WEBHOOK_SECRET not set")
  prefix = read_file(os.getenv("BENCH_BODY_PREFIX"))
  suffix = read_file(os.getenv("BENCH_BODY_SUFFIX"))
  digest = ffi.new("unsigned char[32]")
  digest_len = ffi.new("unsigned int[1]")
  encoded = ffi.new("unsigned char[48]")
  counter = (thread_number or 0) * 1000000000
end

local function sign(body)
  crypto.HMAC(crypto.EVP_sha256(), secret, #secret, body, #body, digest, digest_len)
  local length = crypto.EVP_EncodeBlock(encoded, digest, 32)
  return ffi.string(encoded, length)
end

function request()
  counter = counter + 1
  local body = prefix .. counter .. suffix
  headers["X-WC-Webhook-Signature"] = sign(body)
  headers["X-WC-Webhook-Delivery-ID"] = tostring(counter)
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  local seconds = summary.duration / 1000000
  local ok = summary.requests - errors.status
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "ok": %d, "status_errors": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeouts": %d, "seconds": %.3f, ' ..
    '"requests_per_s": %.1f, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, ok, errors.status, errors.connect, errors.read, errors.write,
    errors.timeout, seconds, summary.requests / seconds, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
end
