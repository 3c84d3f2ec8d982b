// The anchors of serve (a), each in a process of its own like the predict server (plain JavaScript):
//   hello — a bare Fastify hello-world: GET / → {"hello":"world"};
//   echo  — a bare Fastify route taking predict's request body (validated by a schema like predict's) and
//           answering a prediction-shaped body (serialised by a schema) with no work at all: what any JSON
//           POST API pays per request in Fastify before doing anything.
// Sends {port} once listening; exits on the message "close".
import Fastify from 'fastify';

const kind = process.argv[2];
const app = Fastify({ logger: false });
if (kind === 'hello') {
  app.get('/', async () => ({ hello: 'world' }));
} else if (kind === 'echo') {
  app.post(
    '/echo',
    {
      schema: {
        body: {
          type: 'object',
          required: ['instances'],
          additionalProperties: false,
          properties: {
            instances: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'object' } },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              model: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  version: { type: 'integer' },
                  mode: { type: 'string' },
                },
              },
              predictions: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    label: { type: 'string' },
                    probabilities: { type: 'object', additionalProperties: { type: 'number' } },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (req) => {
      const n = req.body.instances.length;
      return {
        id: 'req_0',
        model: { name: 'm100', version: 1, mode: 'tenant' },
        predictions: Array.from({ length: n }, (_, i) => ({
          id: `req_0.${i}`,
          label: 'yes',
          probabilities: { no: 0.25, yes: 0.75 },
        })),
      };
    },
  );
} else {
  throw new Error(`anchor-child: unknown anchor ${kind}`);
}
await app.listen({ host: '127.0.0.1', port: 0 });
process.send({ port: app.server.address().port });
process.on('message', (m) => {
  if (m === 'close') app.close().then(() => process.exit(0));
});
