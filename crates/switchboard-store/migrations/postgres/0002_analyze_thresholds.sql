-- keep planner statistics fresh on the tables that grow fastest; stale estimates
-- turn a history page from an index range scan into a sort of the whole conversation.
ALTER TABLE messages SET (autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 1000);
ALTER TABLE conv_events SET (autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 1000);
ALTER TABLE user_events SET (autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 1000);
ALTER TABLE members SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000);
