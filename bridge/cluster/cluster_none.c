/* cluster_none.c: the backend of a build without hiredis: a single node. A configured
 * [cluster] redis never gets here (tt__cluster_check_conf refuses it at start). */
#include "cascade.h"
#include "cluster.h"

#include <jansson.h>
#include <stddef.h>
#include <tutti/conf.h>
#include <tutti/errno.h>

#include "core/core_types.h"

int tt__cluster_start(struct tt_cluster **clp, struct tt_core *core)
{
	const char *redis = tt_conf_str(core->conf, "cluster", "redis");
	*clp = NULL;
	return redis && *redis ? -ENOTSUP : 0;
}

void tt__cluster_leave(struct tt_cluster *cl)
{
	(void)cl;
}

bool tt__cluster_left(const struct tt_cluster *cl)
{
	(void)cl;
	return true;
}

struct tt_cluster *tt__cluster_free(struct tt_cluster *cl)
{
	(void)cl;
	return NULL;
}

void tt__cluster_room_up(struct tt_cluster *cl, const char *room)
{
	(void)cl;
	(void)room;
}

void tt__cluster_room_down(struct tt_cluster *cl, const char *room)
{
	(void)cl;
	(void)room;
}

bool tt__cluster_lookup(struct tt_cluster *cl, const char *room, tt_cluster_home_h cb,
			void *arg)
{
	(void)cl;
	(void)room;
	(void)cb;
	(void)arg;
	return false;
}

void tt__cluster_redirected(struct tt_cluster *cl)
{
	(void)cl;
}

struct tt_cluster_stats tt__cluster_stats(const struct tt_cluster *cl)
{
	(void)cl;
	return (struct tt_cluster_stats){ 0 };
}

const char *tt__cluster_node(const struct tt_cluster *cl)
{
	(void)cl;
	return NULL;
}

const char *const *tt__cluster_peers(const struct tt_cluster *cl, unsigned *n)
{
	(void)cl;
	*n = 0;
	return NULL;
}

/* cascade.h without a directory: no trunks */
unsigned tt__cascade_accept(struct tt_core *core, const char *room,
			    const struct tt_trunk_req *req, tt_cascade_accept_h cb, void *arg,
			    const char **msg)
{
	(void)core; (void)room; (void)req; (void)cb; (void)arg;
	*msg = "this node does not cascade rooms (built without hiredis)";
	return 404;
}

unsigned tt__cascade_drop(struct tt_core *core, const char *room, const char *node)
{
	(void)core; (void)room; (void)node;
	return 404;
}

json_t *tt__cascade_list(struct tt_core *core, const char *room)
{
	(void)core; (void)room;
	return json_array();
}

void tt__cascade_room_quiet(struct tt_cluster *cl, const char *room)
{
	(void)cl; (void)room;
}

void tt__cascade_gone(struct tt_core *core, struct tt_participant *p)
{
	(void)core; (void)p;
}

void tt__cascade_room_busy(struct tt_cluster *cl, const char *room)
{
	(void)cl; (void)room;
}

void tt__cluster_text_out(struct tt_cluster *cl, const char *room,
			  const struct tt_roster_entry *from, unsigned flags, const char *text,
			  size_t len)
{
	(void)cl;
	(void)room;
	(void)from;
	(void)flags;
	(void)text;
	(void)len;
}

void tt__cluster_roster_out(struct tt_cluster *cl, const struct tt_roster_event *ev)
{
	(void)cl;
	(void)ev;
}

bool tt__cluster_entry_remote(const struct tt_roster_entry *e)
{
	(void)e;
	return false;
}

void tt__cluster_roster_each(struct tt_cluster *cl, const char *room, tt_cluster_entry_h fn,
			     void *arg)
{
	(void)cl;
	(void)room;
	(void)fn;
	(void)arg;
}
