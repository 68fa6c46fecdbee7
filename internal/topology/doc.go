// Package topology decides, from the inventory, which memcached node every
// Tomcat's memcached-session-manager (MSM) uses. It is pure: no I/O, the same
// inventory always gives the same layout.
//
// The layout generalises the seed's two hosts (t58 backs up to the memcached
// on t68 and fails over to its own; t68 the other way round) to a ring:
//
//   - memcached hosts get MSM node ids n1, n2, ... in inventory order (ids
//     must match \w+);
//   - a Tomcat's regular node is the memcached on the next memcached host in
//     the ring after it (inventory order, wrapping round), never its own;
//   - its failover node is its own local memcached, so a session survives
//     the loss of the other host; a Tomcat host without a local memcached
//     fails over to the previous memcached host in the ring instead (the
//     nearest one before it, wrapping round), which differs from its regular
//     node whenever there are at least two memcached hosts;
//   - every Tomcat lists ALL nodes in memcachedNodes (in node-id order,
//     comma-separated), because a Tomcat that takes over another's session
//     must be able to load it from whichever node the session id names, and
//     failoverNodes names only its own failover node.
//
// With exactly two memcached nodes MSM's primary nodes (memcachedNodes minus
// failoverNodes) are just the regular node, so every new session goes there,
// exactly as in the seed. With more, MSM picks a random available primary
// node for each new session (NodeIdService.getMemcachedNodeId), so RegularNode
// is where the ring intends sessions to go, not a guarantee: a checker must
// accept any node other than the failover node.
package topology
