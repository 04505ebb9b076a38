// A wechaty puppet service serving the mock puppet, for jinlin's end-to-end tests.
//
// Usage: node server.mjs --grpc-port P --token T --self-id ID --self-name NAME
//                        --sent-log FILE --ready-file FILE
//
// The gRPC endpoint (plain text, 127.0.0.1:P) is what the bot connects to. A small HTTP control
// channel on a free loopback port lets the test build a world (contacts, rooms, room aliases) and
// inject messages; every message the bot sends is appended to --sent-log as one JSON line, so
// the record survives a kill -9 of this process. When everything listens, the control port is
// written to --ready-file as JSON ({"control_port": N, "pid": N}).

import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import process from 'node:process'

import * as PUPPET from 'wechaty-puppet'
import { PuppetMock, mock } from 'wechaty-puppet-mock'
import { PuppetServer } from 'wechaty-puppet-service'

function parseArgs (argv) {
  const args = {}
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) {
      throw new Error(`bad argument near ${argv[i]}`)
    }
    args[argv[i].slice(2)] = argv[i + 1]
  }
  for (const key of ['grpc-port', 'token', 'self-id', 'self-name', 'sent-log', 'ready-file']) {
    if (!args[key]) throw new Error(`missing --${key}`)
  }
  return args
}

// The stock mock has no room aliases: answer them from a map the test fills in, and record
// every text the bot sends (with its mentions, which the stock mock drops). A send can be made
// slow (sendLatency ms, before it happens, as a round trip to WeChat would be), fail, or be
// refused as WeChat's 风控 does; a sent text comes back as the account's own message (its echo,
// as real puppets deliver it) and its id is returned.
class AliasPuppetMock extends PuppetMock {
  constructor (options, sentLog) {
    super(options)
    this.roomAliases = new Map() // `${roomId}\n${contactId}` -> alias
    this.sentLog = sentLog
    this.failSends = 0
    this.restrictSends = 0
    this.sendLatency = 0
    this.echo = true
    this.friendships = new Map() // id -> friendship payload (the stock mock keeps only ids)
    this.accepted = [] // friendship ids the bot accepted, in order
  }

  async friendshipRawPayload (id) {
    const payload = this.friendships.get(id)
    if (!payload) throw new Error(`no friendship ${id}`)
    return payload
  }

  // Accepting makes the person a friend; WeChat then confirms, as a second friendship event.
  async friendshipAccept (id) {
    const payload = await this.friendshipRawPayload(id)
    this.accepted.push(id)
    const old = this.mocker.contactPayload(payload.contactId)
    this.mocker.contactPayload(payload.contactId, { ...old, friend: true })
    this.dirtyPayload(PUPPET.types.Dirty.Contact, payload.contactId)
    const confirm = { ...payload, id: crypto.randomUUID(), type: PUPPET.types.Friendship.Confirm }
    this.friendships.set(confirm.id, confirm)
    this.emit('friendship', { friendshipId: confirm.id })
  }

  async roomMemberRawPayload (roomId, contactId) {
    const payload = await super.roomMemberRawPayload(roomId, contactId)
    const alias = this.roomAliases.get(`${roomId}\n${contactId}`)
    return alias === undefined ? payload : { ...payload, roomAlias: alias }
  }

  async messageSendText (conversationId, text, mentionIdList) {
    if (this.sendLatency > 0) {
      await new Promise(resolve => setTimeout(resolve, this.sendLatency))
    }
    if (this.failSends > 0) {
      this.failSends -= 1
      throw new Error('injected send failure')
    }
    if (this.restrictSends > 0) {
      this.restrictSends -= 1
      throw new Error('操作过于频繁，可稍后再试。')
    }
    if (!this.isLoggedIn) throw new Error('not logged in')
    const room = conversationId.includes('@')
    const record = {
      conversation_id: conversationId,
      room,
      text,
      mention_ids: mentionIdList ?? [],
      at: Date.now(),
    }
    fs.appendFileSync(this.sentLog, JSON.stringify(record) + '\n')
    const msg = this.mocker.MessageMock.create({
      id: crypto.randomUUID(),
      talkerId: this.currentUserId,
      timestamp: Date.now(),
      type: PUPPET.types.Message.Text,
      text,
      ...(room
        ? { roomId: conversationId, mentionIdList: mentionIdList ?? [] }
        : { listenerId: conversationId }),
    })
    if (this.echo) this.emit('message', { messageId: msg.id })
    return msg.id
  }
}

function readBody (req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', chunk => chunks.push(chunk))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      try {
        resolve(raw ? JSON.parse(raw) : {})
      } catch (e) {
        reject(e)
      }
    })
    req.on('error', reject)
  })
}

function controlHandlers (puppet, mocker) {
  return {
    // {id, name, friend?: bool}
    'POST /contacts': body => {
      mocker.createContact({ id: body.id, name: body.name, friend: body.friend ?? true })
      return { id: body.id }
    },
    // {id, topic, member_ids}
    'POST /rooms': body => {
      mocker.createRoom({ id: body.id, topic: body.topic, memberIdList: body.member_ids })
      return { id: body.id }
    },
    // {room_id, contact_id, alias}
    'POST /aliases': body => {
      puppet.roomAliases.set(`${body.room_id}\n${body.contact_id}`, body.alias)
      return {}
    },
    // {talker_id, room_id? | to_id?, text?, image?: bool, type?: name of a PUPPET.types.Message,
    //  mention_ids?: [id], timestamp?: ms}
    // Built like the mock's contact.say(text, mentions).to(room), plus a settable timestamp
    // (to play a replay of an old message) and an image type.
    'POST /say': body => {
      mocker.ContactMock.load(body.talker_id) // throws for an unknown talker
      const payload = {
        id: crypto.randomUUID(),
        talkerId: body.talker_id,
        timestamp: body.timestamp ?? Date.now(),
        type: body.type
          ? PUPPET.types.Message[body.type]
          : body.image ? PUPPET.types.Message.Image : PUPPET.types.Message.Text,
        ...(body.image ? {} : { text: body.text }),
        ...(body.room_id
          ? { roomId: mocker.RoomMock.load(body.room_id).id, mentionIdList: body.mention_ids ?? [] }
          : { listenerId: mocker.ContactMock.load(body.to_id).id }),
      }
      const msg = mocker.MessageMock.create(payload)
      puppet.emit('message', { messageId: msg.id })
      return { id: msg.id }
    },
    // {count}: the next `count` sends fail with an error
    'POST /fail-sends': body => {
      puppet.failSends = body.count
      return {}
    },
    // {count}: the next `count` sends are refused as WeChat's 风控 refuses them
    'POST /restrict-sends': body => {
      puppet.restrictSends = body.count
      return {}
    },
    // {ms, echo?}: every send takes this long; echo false: sent texts do not come back
    'POST /send-mode': body => {
      puppet.sendLatency = body.ms ?? 0
      puppet.echo = body.echo ?? true
      return {}
    },
    // {room_id, topic}: rename a room, as a member would
    'POST /topic': body => {
      const old = mocker.roomPayload(body.room_id)
      mocker.roomPayload(body.room_id, { ...old, topic: body.topic })
      puppet.dirtyPayload(PUPPET.types.Dirty.Room, body.room_id)
      puppet.emit('room-topic', {
        roomId: body.room_id,
        newTopic: body.topic,
        oldTopic: old.topic,
        changerId: old.memberIdList[0],
        timestamp: Date.now(),
      })
      return {}
    },
    // {room_id, contact_id, alias}: a member changes their room alias (WeChat says: dirty)
    'POST /alias-change': body => {
      puppet.roomAliases.set(`${body.room_id}\n${body.contact_id}`, body.alias)
      puppet.dirtyPayload(PUPPET.types.Dirty.RoomMember, body.room_id)
      return {}
    },
    // {contact_id, type: 'Receive' | 'Confirm', hello?}: a friend request, or a friendship made
    'POST /friendship': body => {
      mocker.ContactMock.load(body.contact_id) // throws for an unknown contact
      const payload = {
        id: crypto.randomUUID(),
        contactId: body.contact_id,
        hello: body.hello ?? '',
        type: PUPPET.types.Friendship[body.type],
        timestamp: Date.now(),
        ...(body.type === 'Receive' ? { scene: 0, stranger: body.contact_id, ticket: 't' } : {}),
      }
      if (payload.type === undefined) throw new Error(`unknown friendship type ${body.type}`)
      puppet.friendships.set(payload.id, payload)
      puppet.emit('friendship', { friendshipId: payload.id })
      return { id: payload.id }
    },
    'GET /friendship-accepts': () => ({ ids: puppet.accepted }),
    'POST /logout': () => {
      puppet.logout().catch(() => {})
      return {}
    },
    // {qrcode}: the service shows a QR code to log in with
    'POST /scan': body => {
      puppet.emit('scan', { qrcode: body.qrcode, status: PUPPET.types.ScanStatus.Waiting })
      return {}
    },
    'POST /login': () => {
      mocker.login(mocker.ContactMock.load(puppet.selfId))
      return {}
    },
    'GET /status': () => ({ logged_in: puppet.isLoggedIn }),
  }
}

async function main () {
  const args = parseArgs(process.argv.slice(2))
  const mocker = new mock.Mocker()
  const puppet = new AliasPuppetMock({ mocker }, args['sent-log'])
  const self = mocker.createContact({ id: args['self-id'], name: args['self-name'] })
  puppet.selfId = args['self-id']
  // python-wechaty's start() stops and restarts the puppet, which logs the mock user out: log
  // in from a behaviour, so that every start logs in again.
  mocker.use(m => {
    if (!m.puppet.isLoggedIn) m.login(self)
    return () => {}
  })

  const server = new PuppetServer({
    endpoint: `127.0.0.1:${args['grpc-port']}`,
    puppet,
    token: args.token,
    tls: { disable: true },
  })
  await server.start()

  const handlers = controlHandlers(puppet, mocker)
  const control = http.createServer(async (req, res) => {
    const handler = handlers[`${req.method} ${req.url}`]
    if (!handler) {
      res.writeHead(404).end()
      return
    }
    try {
      const result = handler(await readBody(req))
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result))
    } catch (e) {
      res.writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: String(e) }))
    }
  })
  control.listen(0, '127.0.0.1', () => {
    const info = { control_port: control.address().port, pid: process.pid }
    // write then rename, so the test never reads a half-written file
    fs.writeFileSync(args['ready-file'] + '.tmp', JSON.stringify(info))
    fs.renameSync(args['ready-file'] + '.tmp', args['ready-file'])
  })

  const shutdown = async () => {
    control.close()
    await server.stop().catch(() => {})
    process.exit(0)
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
}

main().catch(e => {
  console.error(e)
  process.exit(1)
})
