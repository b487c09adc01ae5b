import { createActor, sendTo, setup } from 'xstate';
import { Request, replyActor, type SocketActorEvent } from '../src/index.js';

// An echo server as a statechart: the Reply socket is a child actor, each request an event.
const echo = setup({
  types: { events: {} as SocketActorEvent },
  actors: { reply: replyActor },
}).createMachine({
  invoke: { id: 'rep', src: 'reply', input: { bind: ['inproc://echo'] } },
  on: {
    'zmq.message': {
      actions: sendTo('rep', ({ event }) => ({ type: 'send' as const, message: event.frames })),
    },
  },
});

const server = createActor(echo).start();

const client = new Request();
client.connect('inproc://echo');
await client.send('hello');
const [reply] = await client.receive();
console.log(reply.toString()); // hello

client.close();
server.stop(); // stopping the machine closes its socket
