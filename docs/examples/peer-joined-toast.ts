// "X joined" toasts in plain JS. (Quoted in README.md; run by test/client.test.ts.)
import { createClient } from '@roomcast/client';
import type { ClientOptions } from '@roomcast/client';

export function showJoinToasts(
  roomId: string,
  toast: (text: string) => void,
  extra: Partial<ClientOptions> = {},
) {
  const client = createClient({
    url: 'https://realtime.example.com',
    getToken: () =>
      fetch('/api/roomcast-token')
        .then((r) => r.json())
        .then((body) => body.token),
    ...extra, // (tests pass a local url, a token, and Node's WebSocket)
  });
  const room = client.room(roomId);
  room.on('peer:joined', (peer, meta) => {
    if (meta.rejoin) return; // back within the presence grace: a network blip, not an arrival
    const name = (room.state?.peers[peer.id]?.metadata as { displayName?: string } | undefined)
      ?.displayName;
    toast(`${name ?? 'Someone'} joined`);
  });
  room.on('resync', () => toast('Reconnected: the room is up to date'));
  return () => client.close();
}
