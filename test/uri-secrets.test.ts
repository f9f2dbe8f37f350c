// Defends issue 19: secrets in MONGODB_URI are never printed. The password and every option the
// MongoDB driver treats as sensitive (tlsCertificateKeyFilePassword, authMechanismProperties such
// as AWS_SESSION_TOKEN, proxy credentials) are masked in every message: a configuration error, a
// connection string the driver refuses, and MongoDB out of reach.
import { describe, expect, test } from "bun:test";
import { redactSecrets, redactUri } from "../src/mongo/redact-uri.ts";
import { ServerProcess } from "./support/server-process.ts";

const SECRETS = ["pa%2Fss@word", "pa/ss@word", "kfp-secret", "tok-secret", "proxy-secret", "proxy-user"];

describe("redactUri", () => {
  test("masks the password and the sensitive options, keeps the rest", () => {
    expect(
      redactUri(
        "mongodb://feed:pa%2Fss%40word@db1:27017,db2/app?replicaSet=rs0&tlsCertificateKeyFilePassword=kfp&authMechanismProperties=AWS_SESSION_TOKEN:tok&proxyUsername=u&proxyPassword=p&appName=a@b",
      ),
    ).toBe(
      "mongodb://feed:****@db1:27017,db2/app?replicaSet=rs0&tlsCertificateKeyFilePassword=****&authMechanismProperties=****&proxyUsername=****&proxyPassword=****&appName=a@b",
    );
  });

  test("option names in any case, a password with an unescaped @, and strings that are not valid URIs", () => {
    expect(redactUri("mongodb+srv://u:p@ss@cluster.example/?TLSCERTIFICATEKEYFILEPASSWORD=x")).toBe(
      "mongodb+srv://u:****@cluster.example/?TLSCERTIFICATEKEYFILEPASSWORD=****",
    );
    expect(redactUri("mongodb:/u:secret@host")).toBe("mongodb:/u:****@host");
    expect(redactUri("mongodb://host/db")).toBe("mongodb://host/db");
  });

  test("redactSecrets masks a secret quoted on its own in a message", () => {
    const uri = "mongodb://u:topsecret@h/?authMechanismProperties=AWS_SESSION_TOKEN:tok%3Dvalue";
    expect(redactSecrets(`bad value AWS_SESSION_TOKEN:tok=value in ${uri}; password topsecret`, uri)).not.toMatch(
      /topsecret|tok=value|tok%3Dvalue/,
    );
  });
});

describe("the server process prints no secret", () => {
  const uri = (host: string) =>
    `mongodb://feed:pa%2Fss%40word@${host}/social_network?tlsCertificateKeyFilePassword=kfp-secret&authMechanismProperties=AWS_SESSION_TOKEN:tok-secret&proxyUsername=proxy-user&proxyPassword=proxy-secret&serverSelectionTimeoutMS=300`;
  const output = (server: ServerProcess) => `${server.stderr}\n${JSON.stringify(server.logs)}`;

  for (const [name, env] of [
    ["MongoDB out of reach", { MONGODB_URI: uri("127.0.0.1:1"), MONGODB_CONNECT_TIMEOUT_MS: "300" }],
    ["a connection string the driver refuses", { MONGODB_URI: `${uri("127.0.0.1:1")}&notAnOption=1&tls=maybe` }],
    ["a configuration error", { MONGODB_URI: uri("127.0.0.1:1").replace("mongodb://", "mongodb:/"), PORT: "x" }],
  ] as const) {
    test(`${name}: exits non-zero and masks every secret`, async () => {
      await using server = ServerProcess.spawn(env);
      expect(await server.exited).not.toBe(0);
      expect(server.stderr).toContain("feed:****@");
      for (const secret of SECRETS) expect(output(server)).not.toContain(secret);
    });
  }
});
