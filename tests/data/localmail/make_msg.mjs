// Writes the Outlook .msg test inputs in this folder with @tutao/oxmsg, the MIT-licensed
// .msg writer that the Tutanota desktop client uses to export mail for Outlook (a port of
// MsgKit). Outlook itself cannot run here, so these files come from that real writer, not from
// Outlook; tests/test_local_mailboxes.py reads them back through extract-msg.
//
// Run from tests/data/localmail (node 18+; the package is installed in a scratch folder):
//
//   d=$(mktemp -d) && cp make_msg.mjs "$d" && (cd "$d" && npm install @tutao/oxmsg@0.2.3 &&
//   node make_msg.mjs) && cp "$d"/*.msg .
//
// received.msg  a received message: the transport headers Outlook keeps (PR_TRANSPORT_MESSAGE_
//               HEADERS), a Chinese subject, text and HTML bodies, one attachment and one
//               inline image referenced from the HTML (cid:logo@example.cn).
// draft.msg     a draft: no transport headers, so From/To/Cc/Subject/Date/Message-ID must be
//               made from the MAPI properties; two To, one Cc, a Chinese attachment name.
import {writeFileSync} from "node:fs"
import {Attachment, Email} from "@tutao/oxmsg"

const text = (s) => new TextEncoder().encode(s)
// a 1x1 PNG
const png = Uint8Array.from(atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
), (c) => c.charCodeAt(0))

const headers = [
    "Received: from mx.example.cn (mx.example.cn [192.0.2.25])",
    "\tby mail.example.com with ESMTPS; Tue, 3 Mar 2026 09:15:02 +0800",
    "From: =?UTF-8?B?5byg5LiJ?= <zhang.san@example.cn>",
    "To: Sales <sales@example.com>",
    "Subject: =?UTF-8?B?5oql5Lu35Y2V77yIMjAyNuW5tO+8iQ==?=",
    "Date: Tue, 3 Mar 2026 09:15:00 +0800",
    "Message-ID: <quote-2026@example.cn>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/alternative; boundary="----=_Part_0"',
    "",
    "",
].join("\r\n")

const received = new Email()
    .sender("zhang.san@example.cn", "张三")
    .to("sales@example.com", "Sales")
    .subject("报价单（2026年）")
    .sentOn(new Date("2026-03-03T01:15:00Z"))
    .receivedOn(new Date("2026-03-03T01:15:02Z"))
    .headers(headers)
    .bodyText("您好，附件是报价单。\r\n张三")
    .bodyHtml('<html><body><p>您好，附件是<b>报价单</b>。</p><p><img src="cid:logo@example.cn">张三</p></body></html>')
    .attach(new Attachment(text("SKU,数量\r\nA-1,10\r\n"), "quote.csv"))
    .attach(new Attachment(png, "logo.png", "logo@example.cn"))
writeFileSync("received.msg", received.msg())

const draft = new Email(true)
    .sender("li.si@example.com", "李四")
    .to("wang.wu@example.cn", "王五")
    .to("buyer@example.org")
    .cc("boss@example.com", "Boss")
    .subject("合同草稿 / contract draft")
    .sentOn(new Date("2026-03-04T02:30:00Z"))
    .bodyText("合同草稿见附件。")
    .bodyHtml("<p>合同草稿见附件。</p>")
    .attach(new Attachment(text("contract body\r\n"), "合同草稿.txt"))
draft.internetMessageId = "<draft-7@example.com>"
draft.inReplyToId = "<quote-2026@example.cn>"
writeFileSync("draft.msg", draft.msg())
