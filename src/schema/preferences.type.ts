import { Field, ObjectType, registerEnumType } from 'type-graphql';
import type { PreferencesRow } from '../data/preferences.js';
import { GraphQLDateTime, GraphQLJSON } from '../graphql/scalars.js';

export enum ThemeEnum {
  LIGHT = 'light',
  DARK = 'dark',
  AUTO = 'auto',
}
registerEnumType(ThemeEnum, { name: 'Theme', description: 'Colour scheme; AUTO follows the OS.' });

@ObjectType({
  simpleResolvers: true,
  description: "The caller's display and notification preferences.",
})
export class Preferences {
  @Field(() => ThemeEnum)
  theme!: ThemeEnum;

  @Field(() => String, { nullable: true, description: 'e.g. en-GB.' })
  locale!: string | null;

  @Field(() => String, { nullable: true, description: 'IANA time zone name, e.g. Europe/London.' })
  timezone!: string | null;

  @Field(() => GraphQLJSON)
  dashboardLayout!: Record<string, unknown>;

  @Field(() => GraphQLJSON)
  widgetPreferences!: Record<string, unknown>;

  @Field(() => GraphQLJSON)
  emailNotifications!: Record<string, unknown>;

  @Field(() => GraphQLJSON)
  pushNotifications!: Record<string, unknown>;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;
}

export const preferencesFromRow = (row: PreferencesRow): Preferences => ({
  theme: row.theme as ThemeEnum,
  locale: row.locale,
  timezone: row.timezone,
  dashboardLayout: row.dashboard_layout,
  widgetPreferences: row.widget_preferences,
  emailNotifications: row.email_notifications,
  pushNotifications: row.push_notifications,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});
